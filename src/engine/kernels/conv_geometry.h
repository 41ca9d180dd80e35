// Convolution geometry and the im2col lowering of the integer path.
// Lowered layout for one sample and one group: cols[k][p], k = (c * kh + i) * kw + j over the
// group's input channels, p = oy * out_w + ox; padding reads as zero.
#pragma once

#include <algorithm>
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

// The output columns [lo, hi) whose input column ox * stride - pad + offset lies inside [0, size).
inline void valid_range(int64_t out_size, int64_t stride, int64_t pad, int64_t offset,
                        int64_t size, int64_t& lo, int64_t& hi) {
  // ox * stride >= pad - offset  and  ox * stride < size + pad - offset
  const int64_t first = pad - offset;
  lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = size + pad - offset;  // exclusive bound on ox * stride
  hi = last <= 0 ? 0 : std::min<int64_t>(out_size, (last + stride - 1) / stride);
  if (hi < lo) hi = lo;
}

// x_sample: [c_in, h, w] of one sample; cols: [k_size, out_pixels] for group g. The valid
// column range is worked out once per kernel tap, so the inner copy has no bounds checks (and is
// a plain memcpy at stride 1): this lowering is the bulk of a small convolution's time.
template <class T>
void im2col(const ConvGeometry& g, const T* x_sample, int64_t group, T* cols) {
  const int64_t c0 = group * g.cin_g();
  const int64_t sw = g.p.stride_w;
  for (int64_t j = 0; j < g.kw; ++j) {
    int64_t ox_lo, ox_hi;
    valid_range(g.out_w, sw, g.p.pad_w, j * g.p.dil_w, g.w, ox_lo, ox_hi);
    for (int64_t c = 0; c < g.cin_g(); ++c)
      for (int64_t i = 0; i < g.kh; ++i) {
        T* row = cols + ((c * g.kh + i) * g.kw + j) * g.out_pixels();
        const T* plane = x_sample + (c0 + c) * g.h * g.w;
        for (int64_t oy = 0; oy < g.out_h; ++oy) {
          const int64_t iy = oy * g.p.stride_h - g.p.pad_h + i * g.p.dil_h;
          T* out = row + oy * g.out_w;
          if (iy < 0 || iy >= g.h) {
            std::fill(out, out + g.out_w, T(0));
            continue;
          }
          std::fill(out, out + ox_lo, T(0));
          std::fill(out + ox_hi, out + g.out_w, T(0));
          const T* in = plane + iy * g.w - g.p.pad_w + j * g.p.dil_w;
          if (sw == 1) {
            std::copy(in + ox_lo, in + ox_hi, out + ox_lo);
          } else {
            for (int64_t ox = ox_lo; ox < ox_hi; ++ox) out[ox] = in[ox * sw];
          }
        }
      }
  }
}

}  // namespace chimera
