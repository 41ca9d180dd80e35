// Float 2-D convolution (no bias) lowered to im2col + GEMM per sample and group.
// Shared by the conv2d op and by layers that need the float convolution's gradients.
// x [N, C_in, H, W], w [C_out, C_in/groups, kh, kw], y and dy [N, C_out, out_h, out_w].
// Outputs are overwritten. Results are bit-identical run to run for a given thread count.
#pragma once

#include "engine/kernels/conv_geometry.h"

namespace chimera {

void conv2d_forward_f32(const ConvGeometry& g, const float* x, const float* w, float* y);
void conv2d_backward_input_f32(const ConvGeometry& g, const float* w, const float* dy, float* dx);
// Sums over the samples in sample order, so the weight gradient never depends on scheduling.
void conv2d_backward_weight_f32(const ConvGeometry& g, const float* x, const float* dy, float* dw);

}  // namespace chimera
