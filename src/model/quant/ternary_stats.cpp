#include "model/quant/ternary_stats.h"

#include <algorithm>
#include <array>

namespace chimera {

double entropy_from_ratios(double zero, double plus, double minus) {
  CHIMERA_CHECK(zero >= 0.0 && plus >= 0.0 && minus >= 0.0,
                "ternary ratios must be non-negative, got zero ", zero, ", plus ", plus, ", minus ",
                minus);
  const double total = zero + plus + minus;
  // math.isclose(total, 1, rel_tol=1e-6, abs_tol=1e-6), as the reference checks.
  CHIMERA_CHECK(std::fabs(total - 1.0) <= 1e-6 * std::max(1.0, std::fabs(total)),
                "ternary ratios must sum to 1, got ", zero, " + ", plus, " + ", minus, " = ",
                total);
  double sum = 0.0;
  for (double p : {zero, plus, minus})
    if (p > 0.0) sum += p * std::log2(p);
  return -sum;
}

namespace {

template <class T>
std::array<int64_t, 3> count_signs(const T* q, int64_t n) {
  std::array<int64_t, 3> zero_plus_minus{};
  for (int64_t i = 0; i < n; ++i) {
    zero_plus_minus[0] += q[i] == 0;
    zero_plus_minus[1] += q[i] > 0;
    zero_plus_minus[2] += q[i] < 0;
  }
  return zero_plus_minus;
}

}  // namespace

TernaryStats ternary_stats(const Tensor& q) {
  CHIMERA_CHECK(q.defined() && q.numel() > 0, "ternary_stats needs a non-empty tensor, got shape ",
                q.defined() ? shape_str(q.shape()) : "undefined");
  std::array<int64_t, 3> counts;
  switch (q.dtype()) {
    case DType::f32:
      counts = count_signs(q.f32(), q.numel());
      break;
    case DType::i8:
      counts = count_signs(q.data<int8_t>(), q.numel());
      break;
    default:
      CHIMERA_FAIL("ternary_stats needs an f32 or i8 tensor, got ", dtype_name(q.dtype()));
  }
  const double total = static_cast<double>(q.numel());
  TernaryStats s;
  s.zero_ratio = counts[0] / total;
  s.plus_ratio = counts[1] / total;
  s.minus_ratio = counts[2] / total;
  s.effective_bits = entropy_from_ratios(s.zero_ratio, s.plus_ratio, s.minus_ratio);
  return s;
}

}  // namespace chimera
