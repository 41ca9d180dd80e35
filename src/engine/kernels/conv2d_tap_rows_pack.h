// The activation packing of the tap-row convolution (layouts in conv2d_tap_rows.h), shared by
// the per-ISA kernel files: each includes it and instantiates pack<Simd>() with its own
// interleave4 and gather. Include only from those files (everything here is internal to each).
#pragma once

#include <emmintrin.h>  // SSE2, part of the x86-64 baseline

#include "engine/kernels/conv2d_tap_rows.h"

namespace chimera {
namespace {

constexpr uint32_t kZero4 = 0x80808080u;  // four bytes x + 128 with x = 0

inline void fill(uint32_t* p, int64_t n, uint32_t v) {
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

// dst[0, count) = the first count of 16 dwords holding the bytes of a, b, d, e (the codes of
// four channels at 16 consecutive columns), each + 128.
inline void store_quads(__m128i a, __m128i b, __m128i d, __m128i e, int64_t count, uint32_t* dst) {
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  const __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
  const __m128i de_lo = _mm_unpacklo_epi8(d, e), de_hi = _mm_unpackhi_epi8(d, e);
  const __m128i q[4] = {_mm_xor_si128(_mm_unpacklo_epi16(ab_lo, de_lo), flip),
                        _mm_xor_si128(_mm_unpackhi_epi16(ab_lo, de_lo), flip),
                        _mm_xor_si128(_mm_unpacklo_epi16(ab_hi, de_hi), flip),
                        _mm_xor_si128(_mm_unpackhi_epi16(ab_hi, de_hi), flip)};
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), q[i / 4]);
  if (i < count) {
    alignas(16) uint32_t rest[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(rest), q[i / 4]);
    for (int k = 0; i < count; ++i, ++k) dst[i] = rest[k];
  }
}

// The scratch (tap_rows_scratch_dwords): a padded row, a zero row of w bytes (which the
// stride-2 gather may read 16 dwords into), then the codes of one sample's group when packing
// from floats.
inline int64_t padded_row_dwords(const ConvGeometry& g) {
  return g.w + 2 * g.p.pad_w;
}
inline int64_t codes_offset_dwords(const ConvGeometry& g) {
  return padded_row_dwords(g) + g.w / 4 + 17;
}

// Each padded input row of a quad is interleaved once: in place straight into its plane, for
// tap rows into `row`, from which every kernel column j copies its out_w dwords.
// Simd::interleave4(c, n, dst): dst[x] = the codes c[0..3][x] + 128 for x < n;
// Simd::gather(src, stride, n, dst): dst[i] = src[i * stride] for i < n.
template <class Simd>
void pack(const ConvGeometry& g, const TapRows& t, const int8_t* x_group, uint32_t* row,
          uint32_t* a) {
  const int64_t sh = g.p.stride_h, sw = g.p.stride_w, out_w = g.out_w, pw = g.p.pad_w;
  const int64_t plane_hw = g.h * g.w, cin_g = g.cin_g(), padded_w = padded_row_dwords(g);
  int8_t* zeros = reinterpret_cast<int8_t*>(row + padded_w);  // for missing channels
  for (int64_t i = 0; i < g.w; ++i) zeros[i] = 0;
  // Interleaves input row iy of quad q into dst[0, padded_w), padding included.
  auto padded_row = [&](int64_t q, int64_t iy, uint32_t* dst) {
    if (iy < 0 || iy >= g.h) {
      fill(dst, padded_w, kZero4);
      return;
    }
    const int8_t* ch[4];
    for (int64_t k = 0; k < 4; ++k)
      ch[k] = 4 * q + k < cin_g ? x_group + (4 * q + k) * plane_hw + iy * g.w : zeros;
    fill(dst, pw, kZero4);
    Simd::interleave4(ch, g.w, dst + pw);
    fill(dst + pw + g.w, pw, kZero4);
  };
  if (t.in_place) {
    for (int64_t q = 0; q < t.quads; ++q)
      for (int64_t r = 0; r < t.rows; ++r)
        padded_row(q, r - g.p.pad_h, a + q * t.plane + r * t.pitch0);
  } else {
    for (int64_t ry = 0; ry < sh; ++ry) {
      bool used = false;  // a row phase no kernel row reads (1x1 stride 2) is left unpacked
      for (int64_t i = 0; i < g.kh; ++i) used = used || (i * g.p.dil_h) % sh == ry;
      if (!used) continue;
      for (int64_t q = 0; q < t.quads; ++q)
        for (int64_t r = 0; r < t.rows; ++r) {
          padded_row(q, r * sh + ry - g.p.pad_h, row);
          for (int64_t j = 0; j < g.kw; ++j)
            Simd::gather(row + j * g.p.dil_w, sw, out_w,
                         a + ((j * sh + ry) * t.quads + q) * t.plane + r * out_w);
        }
    }
  }
  fill(a + t.planes * t.plane, kTapRowsSlack, kZero4);
}

}  // namespace
}  // namespace chimera
