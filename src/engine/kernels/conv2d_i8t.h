// Integer convolution of BitConv2d: int8 activations times ternary weights (int8 codes, or
// packed 2-bit codes for inference from a model file), exact int32 sums.
#pragma once

#include <cstdint>

#include "engine/kernels/conv_geometry.h"

namespace chimera {

// xq [N, C_in, H, W] int8 in [-127, 127], wq [C_out, C_in/groups, kh, kw] int8 in {-1, 0, 1};
// acc [N, C_out, OH, OW] int32, overwritten. Geometry from conv_geometry(); groups, stride,
// padding and dilation as there. Lowered with im2col, multiplied with i8t_gemm.
void conv2d_i8t(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, int32_t* acc);

// The same product with the weights packed in the i2 layout (i2_layout.h), seen as the matrix
// [C_out, C_in/groups * kh * kw] (i2_packed_bytes(C_out, that) bytes); multiplied with
// i2t_gemm, it gives exactly the integers of conv2d_i8t on the unpacked codes.
void conv2d_i2t(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2, int32_t* acc);

}  // namespace chimera
