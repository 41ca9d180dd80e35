#include "model/quant/ema.h"

#include <cmath>

namespace chimera {

namespace {

void check_rho(double rho) {
  CHIMERA_CHECK(rho >= 0.0 && rho <= 1.0, "rho must be in [0, 1], got ", rho);
}

float ema_unchecked(float old_value, float new_value, float keep, float take) {
  const float kept = old_value * keep;
  return std::fma(take, new_value, kept);
}

}  // namespace

float ema(float old_value, float new_value, double rho) {
  check_rho(rho);
  return ema_unchecked(old_value, new_value, static_cast<float>(rho),
                       static_cast<float>(1.0 - rho));
}

Tensor ema(const Tensor& old_value, const Tensor& new_value, double rho) {
  check_rho(rho);
  check_same_shape(old_value, new_value, "ema");
  const float keep = static_cast<float>(rho), take = static_cast<float>(1.0 - rho);
  const float* o = old_value.f32();
  const float* n = new_value.f32();
  Tensor out(old_value.shape());
  float* y = out.f32();
  for (int64_t i = 0; i < out.numel(); ++i) y[i] = ema_unchecked(o[i], n[i], keep, take);
  return out;
}

}  // namespace chimera
