// Packing for the tap-row convolution (layouts in conv2d_tap_rows.h).
#include "engine/kernels/conv2d_tap_rows.h"

#include <algorithm>

#include "engine/kernels/conv2d_tap_rows_pack.h"

namespace chimera {

TapRows tap_rows(const ConvGeometry& g, int64_t vector_pixels) {
  TapRows t;
  t.in_place = g.p.stride_w == 1 && g.out_w % vector_pixels == 0;
  t.quads = (g.cin_g() + 3) / 4;
  if (t.in_place) {
    t.rows = g.h + 2 * g.p.pad_h;
    t.pitch0 = g.w + 2 * g.p.pad_w;
    t.planes = t.quads;
    t.width = g.out_w;
    t.pitch = g.p.stride_h * t.pitch0;
  } else {
    t.rows = g.out_h + (g.kh - 1) * g.p.dil_h / g.p.stride_h;
    t.pitch0 = g.out_w;
    t.planes = g.kw * g.p.stride_h * t.quads;
    t.width = t.pitch = g.out_w;
  }
  t.plane = t.rows * t.pitch0;
  t.steps = t.quads * g.kh * g.kw;
  t.blocks = (g.cout_g() + kTapRowsNR - 1) / kTapRowsNR;
  return t;
}

int64_t tap_rows_scratch_dwords(const ConvGeometry& g) {
  return codes_offset_dwords(g) + g.cin_g() * g.h * g.w / 4 + 1;
}

void tap_row_offsets(const ConvGeometry& g, const TapRows& t, int32_t* off) {
  const int64_t sh = g.p.stride_h;
  for (int64_t q = 0; q < t.quads; ++q)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t dy = i * g.p.dil_h, dx = j * g.p.dil_w;
        const int64_t o = t.in_place
                              ? q * t.plane + dy * t.pitch0 + dx
                              : ((j * sh + dy % sh) * t.quads + q) * t.plane + dy / sh * t.pitch0;
        off[(q * g.kh + i) * g.kw + j] = static_cast<int32_t>(o);
      }
}

void pack_tap_weights(const ConvGeometry& g, const TapRows& t, const int8_t* wq, int64_t group,
                      int8_t* wp, int32_t* comp) {
  const int64_t cout_g = g.cout_g(), cin_g = g.cin_g(), taps = g.kh * g.kw;
  std::fill(wp, wp + t.weight_bytes(), int8_t{0});
  for (int64_t co = 0; co < cout_g; ++co) {
    const int8_t* w = wq + (group * cout_g + co) * cin_g * taps;
    int32_t sum = 0;
    for (int64_t ci = 0; ci < cin_g; ++ci)
      for (int64_t tap = 0; tap < taps; ++tap) {
        const int64_t step = (ci / 4) * taps + tap;
        wp[((co / kTapRowsNR * t.steps + step) * kTapRowsNR + co % kTapRowsNR) * 4 + ci % 4] =
            w[ci * taps + tap];
        sum += w[ci * taps + tap];
      }
    comp[co] = 128 * sum;
  }
}

}  // namespace chimera
