// Float 2-D convolution (no bias) on oneDNN, with its two gradients.
// Shared by the conv2d op and by layers that need the float convolution's gradients.
// x [N, C_in, H, W], w [C_out, C_in/groups, kh, kw], y and dy [N, C_out, out_h, out_w].
// Outputs are overwritten. Results are bit-identical run to run for a given thread count (the
// summation order depends on the thread count, never on scheduling).
#pragma once

#include <cstdint>

#include "engine/kernels/conv_geometry.h"

namespace chimera {

void conv2d_forward_f32(const ConvGeometry& g, const float* x, const float* w, float* y);
void conv2d_backward_input_f32(const ConvGeometry& g, const float* w, const float* dy, float* dx);
void conv2d_backward_weight_f32(const ConvGeometry& g, const float* x, const float* dy, float* dw);
// Both gradients at once (dx or dw may be null: not computed), dy reordered for the primitives
// once; the same results as the two calls above. With int8 x, its values are converted exactly.
void conv2d_backward_f32(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                         float* dx, float* dw);
void conv2d_backward_f32(const ConvGeometry& g, const int8_t* x, const float* w, const float* dy,
                         float* dx, float* dw);

}  // namespace chimera
