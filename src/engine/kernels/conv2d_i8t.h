// Integer convolution of BitConv2d: int8 activations times ternary weights, exact int32 sums.
#pragma once

#include <cstdint>

#include "engine/kernels/conv_geometry.h"

namespace chimera {

// xq [N, C_in, H, W] int8 in [-127, 127], wq [C_out, C_in/groups, kh, kw] int8 in {-1, 0, 1};
// acc [N, C_out, OH, OW] int32, overwritten. Geometry from conv_geometry(); groups, stride,
// padding and dilation as there. Lowered with im2col, multiplied with i8t_gemm.
void conv2d_i8t(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, int32_t* acc);

}  // namespace chimera
