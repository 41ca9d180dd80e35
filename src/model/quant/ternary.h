// Ternary weight quantizers (SPEC §1), as f32 values in {-1, 0, 1} or int8 codes.
//
// Strict BitNet: q = clamp(round(U / gamma), -1, 1). Chimera threshold: q = sign(U) where
// |U| > alpha * gamma, else 0. Both lie on one alpha axis: round-half-to-even sends exactly 0.5
// to 0, so strict is the threshold rule on U / gamma at alpha = 0.5 (0.7 is the Ternary Weight
// Networks rule). Inside both, gamma is first raised to float32 epsilon (safe_gamma).
//
// Rounding follows torch exactly: U / gamma is a true float division; alpha * gamma is
// float(alpha) * gamma in float, as torch multiplies a Python float by a float32 tensor.
// The f32 results also carry torch's signed zeros (-0.0 where U < 0 maps to 0); int8 codes
// have no signed zero.
#pragma once

#include "engine/tensor.h"

namespace chimera {

float safe_gamma(float gamma);  // max(gamma, 1.1920929e-07)

// U: non-empty f32. Results have U's shape.
Tensor quantize_strict(const Tensor& U, float gamma);     // f32
Tensor quantize_strict_i8(const Tensor& U, float gamma);  // i8 codes
// alpha < 0 is an error.
Tensor quantize_threshold(const Tensor& U, float gamma, double alpha);     // f32
Tensor quantize_threshold_i8(const Tensor& U, float gamma, double alpha);  // i8 codes

}  // namespace chimera
