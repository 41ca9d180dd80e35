#include "model/quant/abs_stat.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace chimera {

StatMode parse_stat_mode(const std::string& name) {
  if (name == "mean") return StatMode::mean;
  if (name == "median") return StatMode::median;
  CHIMERA_FAIL("stat_mode must be 'mean' or 'median', got '", name, "'");
}

const char* stat_mode_name(StatMode mode) {
  return mode == StatMode::mean ? "mean" : "median";
}

namespace {

// torch sums float32 in float (a cascade that is nearly always the correctly rounded sum) and
// then divides by the count in float; a double sum rounded once reproduces that.
template <class T>
float abs_mean(const T* u, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(u[i]));
  return static_cast<float>(static_cast<T>(sum) / static_cast<T>(n));
}

template <class T>
float abs_lower_median(const T* u, int64_t n) {
  std::vector<T> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(u[i])) return std::numeric_limits<float>::quiet_NaN();
    values[i] = std::fabs(u[i]);
  }
  const auto middle = values.begin() + (n - 1) / 2;
  std::nth_element(values.begin(), middle, values.end());
  return static_cast<float>(*middle);
}

template <class T>
float abs_stat_of(const T* u, int64_t n, StatMode mode) {
  return mode == StatMode::mean ? abs_mean(u, n) : abs_lower_median(u, n);
}

}  // namespace

float abs_stat(const Tensor& U, StatMode mode) {
  CHIMERA_CHECK(U.defined() && U.numel() > 0, "abs_stat needs a non-empty tensor, got shape ",
                U.defined() ? shape_str(U.shape()) : "undefined");
  switch (U.dtype()) {
    case DType::f32:
      return abs_stat_of(U.data<float>(), U.numel(), mode);
    case DType::f64:
      return abs_stat_of(U.data<double>(), U.numel(), mode);
    default:
      CHIMERA_FAIL("abs_stat needs a floating-point tensor, got ", dtype_name(U.dtype()));
  }
}

}  // namespace chimera
