// Convolution geometry and the im2col / col2im lowering shared by the float and integer paths.
// Lowered layout for one sample and one group: cols[k][p], k = (c * kh + i) * kw + j over the
// group's input channels, p = oy * out_w + ox; padding reads as zero.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace chimera {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
};

struct ConvGeometry {
  int64_t n, c_in, h, w, c_out, kh, kw;
  Conv2dParams p;
  int64_t out_h, out_w;
  int64_t cin_g() const { return c_in / p.groups; }
  int64_t cout_g() const { return c_out / p.groups; }
  int64_t k_size() const { return cin_g() * kh * kw; }  // GEMM depth per group
  int64_t out_pixels() const { return out_h * out_w; }
};

// Validates shapes and settings (errors name the offending value) and derives output size.
ConvGeometry conv_geometry(const Shape& x, const Shape& w, const Conv2dParams& p);

// x_sample: [c_in, h, w] of one sample; cols: [k_size, out_pixels] for group g.
template <class T>
void im2col(const ConvGeometry& g, const T* x_sample, int64_t group, T* cols) {
  const int64_t c0 = group * g.cin_g();
  for (int64_t c = 0; c < g.cin_g(); ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* row = cols + ((c * g.kh + i) * g.kw + j) * g.out_pixels();
        const T* plane = x_sample + (c0 + c) * g.h * g.w;
        for (int64_t oy = 0; oy < g.out_h; ++oy) {
          const int64_t iy = oy * g.p.stride_h - g.p.pad_h + i * g.p.dil_h;
          T* out = row + oy * g.out_w;
          if (iy < 0 || iy >= g.h) {
            for (int64_t ox = 0; ox < g.out_w; ++ox) out[ox] = T(0);
            continue;
          }
          for (int64_t ox = 0; ox < g.out_w; ++ox) {
            const int64_t ix = ox * g.p.stride_w - g.p.pad_w + j * g.p.dil_w;
            out[ox] = (ix >= 0 && ix < g.w) ? plane[iy * g.w + ix] : T(0);
          }
        }
      }
}

// Adds cols back into dx_sample ([c_in, h, w], accumulated with +=): the adjoint of im2col.
void col2im_f32(const ConvGeometry& g, const float* cols, int64_t group, float* dx_sample);

}  // namespace chimera
