// The direct integer convolution of conv2d_i8t on AVX-512 VNNI and on AVX2: no im2col, no
// transpose.
//
// One sample and group at a time, the activations are repacked as dwords holding the bytes
// x + 128 of four consecutive input channels (a "quad"; 128, i.e. x = 0, in the padding and in
// missing channels of the last quad). The kernel computes V consecutive output pixels
// p = oy * out_w + ox at a time (V = 16 on AVX-512, 8 on AVX2: one vector of dwords), reading
// for each kernel tap (i, j) and quad one vector of V consecutive dwords at
// base(p) + off[tap, quad], with base(p) = (p / width) * pitch + p % width.
// Two layouts make that true:
//   in place (stride_w 1, out_w a multiple of V): each quad is the zero-padded input image,
//     rows of pitch0 = w + 2 * pad_w dwords; width = out_w, pitch = stride_h * pitch0 and
//     off = quad plane + i * dil_h * pitch0 + j * dil_w. Packing writes the input once.
//   tap rows (any geometry): for every kernel column j, row phase ry < stride_h and quad, a
//     plane of R = out_h + (kh - 1) * dil_h / stride_h rows of out_w dwords, dword (r, ox) taken
//     from padded input row r * stride_h + ry and column ox * stride_w + j * dil_w; then
//     base(p) = p and off = plane(j, (i * dil_h) % stride_h, quad) + (i * dil_h) / stride_h *
//     out_w. Packing writes kw copies of the input (worth it for small images).
// Weights are laid out per block of kTapRowsNR output channels as [step = (quad, i, j)][channel
// in block][4 bytes]. vpdpbusd multiplies unsigned by signed bytes, so each output channel
// subtracts 128 * (sum of its weights) at the end: exact integers, equal to the float
// convolution of the same values (AVX2 multiplies with vpmaddubsw, also unsigned by signed).
#pragma once

#include <cstdint>

#include "engine/kernels/conv_geometry.h"
#include "engine/kernels/int_epilogue.h"

namespace chimera {

inline constexpr int64_t kTapRowsNR = 8;       // output channels per weight block
inline constexpr int64_t kTapRowsSlack = 256;  // dwords readable past the last plane

struct TapRows {
  bool in_place;   // the first layout above
  int64_t quads;   // ceil(cin_g / 4)
  int64_t rows;    // rows per plane
  int64_t pitch0;  // dwords per plane row
  int64_t plane;   // dwords per plane: rows * pitch0
  int64_t planes;
  int64_t width, pitch;  // base(p) = (p / width) * pitch + p % width
  int64_t steps;         // quads * kh * kw: the depth of the product in dword steps
  int64_t blocks;        // ceil(cout_g / kTapRowsNR)

  int64_t activation_dwords() const { return planes * plane + kTapRowsSlack; }
  int64_t weight_bytes() const { return blocks * steps * kTapRowsNR * 4; }
};

// vector_pixels: V above.
TapRows tap_rows(const ConvGeometry& g, int64_t vector_pixels);

// off[s]: the dword offset of step s = (quad * kh + i) * kw + j, added to base(p).
void tap_row_offsets(const ConvGeometry& g, const TapRows& t, int32_t* off);
// The weights of `group` (wq [c_out, cin_g, kh, kw] ternary int8) as weight_bytes() bytes, and
// comp[co] = 128 * (sum of channel co's weights) for the group's cout_g channels.
void pack_tap_weights(const ConvGeometry& g, const TapRows& t, const int8_t* wq, int64_t group,
                      int8_t* wp, int32_t* comp);

// x_sample [c_in, h, w] -> a (activation_dwords() dwords, the slack included); `row` is
// scratch of tap_rows_scratch_dwords(g) dwords. From int8 codes, or from floats quantized on
// the way exactly as quantize_i8 does with beta. Single-threaded; one version per ISA.
int64_t tap_rows_scratch_dwords(const ConvGeometry& g);
void pack_tap_rows__avx512vnni(const ConvGeometry& g, const TapRows& t, const int8_t* x_sample,
                               int64_t group, uint32_t* row, uint32_t* a);
void pack_tap_rows__avx512vnni(const ConvGeometry& g, const TapRows& t, const float* x_sample,
                               float beta, int64_t group, uint32_t* row, uint32_t* a);
void pack_tap_rows__avx2(const ConvGeometry& g, const TapRows& t, const int8_t* x_sample,
                         int64_t group, uint32_t* row, uint32_t* a);
void pack_tap_rows__avx2(const ConvGeometry& g, const TapRows& t, const float* x_sample,
                         float beta, int64_t group, uint32_t* row, uint32_t* a);

// acc[co][p] = sum over steps s of dot4(a[base(p) + off[s]], wp[co / NR][s][co % NR]) - comp[co]
// for co < cout and p < P, written to c (row stride P) as int32 when `scale` is null, else as
// the floats of int_epilogue.h (`scale` pointing at these cout channels: scale->at()).
// Single-threaded; one version per ISA, bit-identical.
void conv_tap_rows_ukernel__avx512vnni(const TapRows& t, int64_t P, const uint32_t* a,
                                       const int32_t* off, const int8_t* wp, const int32_t* comp,
                                       int64_t cout, const AccScale* scale, void* c);
void conv_tap_rows_ukernel__avx2(const TapRows& t, int64_t P, const uint32_t* a,
                                 const int32_t* off, const int8_t* wp, const int32_t* comp,
                                 int64_t cout, const AccScale* scale, void* c);

}  // namespace chimera
