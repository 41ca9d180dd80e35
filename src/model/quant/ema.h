// Exponential moving average (SPEC §1): rho * old + (1 - rho) * new, rho in [0, 1].
#pragma once

#include "engine/tensor.h"

namespace chimera {

// Rounded as the reference's old.mul(rho).add(new, alpha=1 - rho) on float32 is: rho and 1 - rho
// (computed in double) become floats, old * rho is rounded, then torch's add kernel fuses
// the rest into one fma (verified bit-exactly against the optimizer golden's m state).
float ema(float old_value, float new_value, double rho);
// Element by element; f32 tensors of one shape.
Tensor ema(const Tensor& old_value, const Tensor& new_value, double rho);

}  // namespace chimera
