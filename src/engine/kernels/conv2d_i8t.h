// Integer convolution of BitConv2d: int8 activations times ternary weights (int8 codes, or
// packed 2-bit codes for inference from a model file), exact int32 sums.
#pragma once

#include <cstdint>

#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/int_epilogue.h"
#include "engine/kernels/isa.h"

namespace chimera {

// xq [N, C_in, H, W] int8 in [-127, 127], wq [C_out, C_in/groups, kh, kw] int8 in {-1, 0, 1};
// acc [N, C_out, OH, OW] int32, overwritten. Geometry from conv_geometry(); groups, stride,
// padding and dilation as there. On AVX-512 VNNI and AVX2 a direct kernel (conv2d_tap_rows.h);
// on the scalar path (the reference the others are tested against) lowered with im2col and
// multiplied with i8t_gemm.
void conv2d_i8t(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, int32_t* acc);

// The same product with the weights packed in the i2 layout (i2_layout.h), seen as the matrix
// [C_out, C_in/groups * kh * kw] (i2_packed_bytes(C_out, that) bytes); multiplied with
// i2t_gemm, it gives exactly the integers of conv2d_i8t on the unpacked codes.
void conv2d_i2t(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2, int32_t* acc);

// The same products scaled to floats, y [N, C_out, OH, OW] = scale * (clip * acc) + bias, and
// for inference the BatchNorm, residual add and ReLU that follow (int_epilogue.h): the direct
// kernel writes y without an int32 tensor in between.
void conv2d_i8t_scaled(const ConvGeometry& g, const int8_t* xq, const int8_t* wq, const AccScale& s,
                       float* y);
void conv2d_i2t_scaled(const ConvGeometry& g, const int8_t* xq, const uint8_t* w_i2,
                       const AccScale& s, float* y);
// conv2d_i8t_scaled of the codes quantize_i8(x, beta) would give, for inference: the direct
// kernel quantizes while it packs, so the codes are never stored.
void conv2d_i8t_scaled_from_f32(const ConvGeometry& g, const float* x, float beta, const int8_t* wq,
                                const AccScale& s, float* y);

// conv2d_i8t, conv2d_i8t_scaled and conv2d_i8t_scaled_from_f32 on a given ISA (tests and
// benchmarks compare the paths); throws if this CPU lacks it. The functions above use
// active_isa().
void conv2d_i8t_on(Isa isa, const ConvGeometry& g, const int8_t* xq, const int8_t* wq,
                   int32_t* acc);
void conv2d_i8t_scaled_on(Isa isa, const ConvGeometry& g, const int8_t* xq, const int8_t* wq,
                          const AccScale& s, float* y);
void conv2d_i8t_scaled_from_f32_on(Isa isa, const ConvGeometry& g, const float* x, float beta,
                                   const int8_t* wq, const AccScale& s, float* y);

}  // namespace chimera
