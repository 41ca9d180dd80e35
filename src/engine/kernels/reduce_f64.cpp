#include "engine/kernels/reduce_f64.h"

#include "engine/kernels/isa.h"

namespace chimera {
namespace {

bool use_avx2() {
  static const bool avx2 = active_isa() != Isa::scalar;
  return avx2;
}

// The scalar order of reduce_f64.h for term(i).
template <class F>
double lanes_sum(int64_t n, F term) {
  double lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += term(i + k);
  double s =
      ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < n; ++i) s += term(i);
  return s;
}

}  // namespace

double sum_f64(int64_t n, const float* x) {
  if (use_avx2()) return sum_f64__avx2(n, x);
  return lanes_sum(n, [x](int64_t i) { return static_cast<double>(x[i]); });
}

double sum_sq_dev_f64(int64_t n, const float* x, float m) {
  if (use_avx2()) return sum_sq_dev_f64__avx2(n, x, m);
  return lanes_sum(n, [x, m](int64_t i) {
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
  *sum_g = lanes_sum(n, [g](int64_t i) { return static_cast<double>(g[i]); });
  *sum_g_dev =
      lanes_sum(n, [g, x, m](int64_t i) { return static_cast<double>(g[i] * (x[i] - m)); });
}

}  // namespace chimera
