#include "model/quant/ternary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace chimera {

float safe_gamma(float gamma) {
  return std::max(gamma, std::numeric_limits<float>::epsilon());
}

namespace {

// Each rule returns torch's float value for one element, signed zero and NaN included.
struct StrictRule {
  float gamma;
  float operator()(float u) const {
    const float x = u / gamma;
    // Same as clamp(round_half_even(x), -1, 1); x * 0 keeps the zero's sign and a NaN.
    return x > 0.5f ? 1.0f : x < -0.5f ? -1.0f : x * 0.0f;
  }
};

struct ThresholdRule {
  float limit;  // alpha * gamma
  float operator()(float u) const {
    // torch.sign(U) * keep: sign(-0.0) and sign(NaN) are +0, and -1 * 0 is -0.0.
    const float sign = u > 0.0f ? 1.0f : u < 0.0f ? -1.0f : 0.0f;
    return std::fabs(u) > limit ? sign : sign * 0.0f;
  }
};

template <class Out>
Out to_output(float v) {
  if constexpr (std::is_same_v<Out, float>) {
    return v;
  } else {
    // A NaN (only from a NaN weight or gamma) becomes code 0.
    return static_cast<Out>((v > 0.0f) - (v < 0.0f));
  }
}

template <class Out, class Rule>
Tensor quantize_with(const Tensor& U, Rule rule) {
  CHIMERA_CHECK(U.defined() && U.numel() > 0, "quantize needs a non-empty tensor, got shape ",
                U.defined() ? shape_str(U.shape()) : "undefined");
  CHIMERA_CHECK(U.dtype() == DType::f32, "quantize needs a float32 tensor, got ",
                dtype_name(U.dtype()));
  const float* u = U.f32();
  Tensor out(U.shape(), dtype_of<Out>());
  Out* q = out.data<Out>();
  const int64_t n = U.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) q[i] = to_output<Out>(rule(u[i]));
  return out;
}

float threshold_limit(float gamma, double alpha) {
  CHIMERA_CHECK(alpha >= 0.0, "alpha must be >= 0, got ", alpha);
  return static_cast<float>(alpha) * safe_gamma(gamma);
}

}  // namespace

Tensor quantize_strict(const Tensor& U, float gamma) {
  return quantize_with<float>(U, StrictRule{safe_gamma(gamma)});
}

Tensor quantize_strict_i8(const Tensor& U, float gamma) {
  return quantize_with<int8_t>(U, StrictRule{safe_gamma(gamma)});
}

Tensor quantize_threshold(const Tensor& U, float gamma, double alpha) {
  return quantize_with<float>(U, ThresholdRule{threshold_limit(gamma, alpha)});
}

Tensor quantize_threshold_i8(const Tensor& U, float gamma, double alpha) {
  return quantize_with<int8_t>(U, ThresholdRule{threshold_limit(gamma, alpha)});
}

}  // namespace chimera
