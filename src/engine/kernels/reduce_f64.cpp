#include "engine/kernels/reduce_f64.h"

#include "engine/kernels/isa.h"

namespace chimera {
namespace {

bool use_avx2() {
  static const bool avx2 = active_isa() != Isa::scalar;
  return avx2;
}


}  // namespace

double sum_f64(int64_t n, const float* x) {
  if (use_avx2()) return sum_f64__avx2(n, x);
  return sum_terms(n, [x](int64_t i) { return static_cast<double>(x[i]); });
}

double sum_sq_f64(int64_t n, const float* x) {
  if (use_avx2()) return sum_sq_f64__avx2(n, x);
  return sum_terms(n, [x](int64_t i) { return static_cast<double>(x[i]) * x[i]; });
}

double sum_sq_dev_f64(int64_t n, const float* x, float m) {
  if (use_avx2()) return sum_sq_dev_f64__avx2(n, x, m);
  return sum_terms(n, [x, m](int64_t i) {
    const float d = x[i] - m;
    return static_cast<double>(d * d);
  });
}

void sum_and_dot_dev_f64(int64_t n, const float* g, const float* x, float m, double* sum_g,
                         double* sum_g_dev) {
  if (use_avx2()) {
    sum_and_dot_dev_f64__avx2(n, g, x, m, sum_g, sum_g_dev);
    return;
  }
  *sum_g = sum_terms(n, [g](int64_t i) { return static_cast<double>(g[i]); });
  *sum_g_dev =
      sum_terms(n, [g, x, m](int64_t i) { return static_cast<double>(g[i] * (x[i] - m)); });
}

}  // namespace chimera
