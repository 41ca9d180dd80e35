// AVX2 packing and micro-kernel of the tap-row convolution (layouts in conv2d_tap_rows.h), for
// CPUs without VNNI. There is no vpdpbusd: vpmaddubsw multiplies the unsigned activation bytes
// (x + 128, in [1, 255]) by the signed weight bytes ({-1, 0, 1}) and adds pairs into int16, so
// each lane gains at most 2 * 255 = 510 per step; int16 sums of kWiden = 64 steps (32640 <=
// 32767) are exact, and only then widened to int32 with vpmaddwd. Two instructions per 32
// products instead of vpdpbusd's one, but no per-step widening.
// A tile is kNR = 4 output channels (half a weight block) x MR = 2 vectors of 8 output pixels:
// per step, 2 loads of activations and 4 broadcast weight dwords feed 8 vpmaddubsw + vpaddw.
// 8 int16 accumulators, 2 activation vectors, 4 weights and the products fit the 16 ymm
// registers; MR = 3 would need 17 (vpmaddubsw cannot accumulate) and GCC spills to the stack. Only intrinsics and file-local code here (see i8t_gemm_avx512vnni.cpp).
#include <immintrin.h>

#include "engine/kernels/conv2d_tap_rows.h"
#include "engine/kernels/conv2d_tap_rows_pack.h"
#include "engine/kernels/quantize_i8.h"
#include "engine/kernels/simd_avx2.h"

namespace chimera {
namespace {

constexpr int kNR = 4;           // output channels per tile
constexpr int64_t kWiden = 64;   // steps summed in int16 before widening (64 * 510 <= 32767)

inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

// Lanes [0, count) of a mask for maskload/maskstore.
inline __m256i lanes(int64_t count) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count < 8 ? count : 8)), idx);
}

// Pixels [p0, p0 + 8 * MR) of up to kNR channels, vector m read from a + base[m]; weights at
// w[s * kTapRowsNR + n] (this tile's half of the block); rows of c past `channels` or pixels
// past P are not written.
template <int MR>
void tile(int64_t P, int64_t p0, const int64_t* base, int64_t steps, const uint32_t* a,
          const int32_t* off, const int32_t* w, const int32_t* comp, int64_t channels,
          const AccScale* scale, void* c) {
  const __m256i ones = _mm256_set1_epi16(1);
  const uint32_t* ap[MR];
#pragma GCC unroll 4
  for (int m = 0; m < MR; ++m) ap[m] = a + base[m];
  // int32 totals in memory: touched once per kWiden steps, they leave the registers to the
  // int16 sums.
  alignas(32) int32_t total[kNR][MR][8];
  for (int64_t s0 = 0; s0 < steps; s0 += kWiden) {
    const int64_t s1 = min_i64(steps, s0 + kWiden);
    __m256i acc[kNR][MR];
#pragma GCC unroll 4
    for (int n = 0; n < kNR; ++n)
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m) acc[n][m] = _mm256_setzero_si256();
    const int32_t* ws = w + s0 * kTapRowsNR;
    for (int64_t s = s0; s < s1; ++s, ws += kTapRowsNR) {
      const int64_t o = off[s];
      __m256i av[MR];
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m)
        av[m] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ap[m] + o));
#pragma GCC unroll 4
      for (int n = 0; n < kNR; ++n) {
        const __m256i wn = _mm256_set1_epi32(ws[n]);
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m)
          acc[n][m] = maddubs_add(acc[n][m], av[m], wn);
      }
    }
#pragma GCC unroll 4
    for (int n = 0; n < kNR; ++n)
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m) {
        __m256i wide = _mm256_madd_epi16(acc[n][m], ones);
        __m256i* t = reinterpret_cast<__m256i*>(total[n][m]);
        if (s0 > 0) wide = _mm256_add_epi32(wide, _mm256_load_si256(t));
        _mm256_store_si256(t, wide);
      }
  }
  if (scale == nullptr) {
    int32_t* ci = static_cast<int32_t*>(c);
    for (int n = 0; n < kNR && n < channels; ++n) {
      const __m256i cn = _mm256_set1_epi32(comp[n]);
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m) {
        const int64_t p = p0 + 8 * m;
        const __m256i v = _mm256_sub_epi32(
            _mm256_load_si256(reinterpret_cast<const __m256i*>(total[n][m])), cn);
        if (P - p >= 8)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ci + n * P + p), v);
        else
          _mm256_maskstore_epi32(ci + n * P + p, lanes(P - p), v);
      }
    }
    return;
  }
  // The float operations of int_epilogue.h, in its order (-ffp-contract=off: no multiply and add
  // become an FMA; the BatchNorm step is an FMA by definition).
  float* cf = static_cast<float*>(c);
  const __m256 clip = _mm256_set1_ps(scale->clip), sc = _mm256_set1_ps(scale->scale);
  const __m256 zero = _mm256_setzero_ps();
  for (int n = 0; n < kNR && n < channels; ++n) {
    const __m256i cn = _mm256_set1_epi32(comp[n]);
    const __m256 bias = _mm256_set1_ps(scale->bias ? scale->bias[n] : 0.0f);
    const __m256 bn_mul = _mm256_set1_ps(scale->bn_mul ? scale->bn_mul[n] : 0.0f);
    const __m256 bn_add = _mm256_set1_ps(scale->bn_mul ? scale->bn_add[n] : 0.0f);
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m) {
      const int64_t p = p0 + 8 * m;
      const bool full = P - p >= 8;
      const __m256i k = lanes(P - p);
      const __m256i acc = _mm256_sub_epi32(
          _mm256_load_si256(reinterpret_cast<const __m256i*>(total[n][m])), cn);
      __m256 v = _mm256_mul_ps(sc, _mm256_mul_ps(clip, _mm256_cvtepi32_ps(acc)));
      if (scale->bias) v = _mm256_add_ps(v, bias);
      if (scale->bn_mul) v = _mm256_fmadd_ps(v, bn_mul, bn_add);
      if (scale->residual) {
        const float* r = scale->residual + n * P + p;
        v = _mm256_add_ps(v, full ? _mm256_loadu_ps(r) : _mm256_maskload_ps(r, k));
      }
      if (scale->relu) v = _mm256_max_ps(v, zero);  // vmaxps: -0 and NaN give +0
      if (full)
        _mm256_storeu_ps(cf + n * P + p, v);
      else
        _mm256_maskstore_ps(cf + n * P + p, k, v);
    }
  }
}

struct Avx2 {
  // dst[x] = the codes c[0][x], c[1][x], c[2][x], c[3][x] of the quad's channels, each + 128,
  // for x < n. A short tail is read from a zero-padded copy (no read past a row).
  static void interleave4(const int8_t* const* c, int64_t n, uint32_t* dst) {
    int64_t x = 0;
    for (; x + 16 <= n; x += 16)
      store_quads(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c[0] + x)),
                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(c[1] + x)),
                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(c[2] + x)),
                  _mm_loadu_si128(reinterpret_cast<const __m128i*>(c[3] + x)), 16, dst + x);
    if (x < n) {
      alignas(16) int8_t t[4][16] = {};
      for (int k = 0; k < 4; ++k)
        for (int64_t i = x; i < n; ++i) t[k][i - x] = c[k][i];
      store_quads(_mm_load_si128(reinterpret_cast<const __m128i*>(t[0])),
                  _mm_load_si128(reinterpret_cast<const __m128i*>(t[1])),
                  _mm_load_si128(reinterpret_cast<const __m128i*>(t[2])),
                  _mm_load_si128(reinterpret_cast<const __m128i*>(t[3])), n - x, dst + x);
    }
  }

  // dst[i] = src[i * stride] for i < n, stride 1 or 2 vectorised; reads at most src[2n - 1].
  static void gather(const uint32_t* src, int64_t stride, int64_t n, uint32_t* dst) {
    int64_t i = 0;
    if (stride == 1) {
      for (; i + 8 <= n; i += 8)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
    } else if (stride == 2) {
      for (; i + 8 <= n; i += 8) {
        const __m256 lo = _mm256_loadu_ps(reinterpret_cast<const float*>(src + 2 * i));
        const __m256 hi = _mm256_loadu_ps(reinterpret_cast<const float*>(src + 2 * i + 8));
        // [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6] -> 64-bit lanes 0, 2, 1, 3
        const __m256 even = _mm256_shuffle_ps(lo, hi, 0x88);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                            _mm256_permute4x64_epi64(_mm256_castps_si256(even), 0xD8));
      }
    }
    for (; i < n; ++i) dst[i] = src[i * stride];
  }
};

}  // namespace

void pack_tap_rows__avx2(const ConvGeometry& g, const TapRows& t, const int8_t* x_sample,
                         int64_t group, uint32_t* row, uint32_t* a) {
  pack<Avx2>(g, t, x_sample + group * g.cin_g() * g.h * g.w, row, a);
}

// As on AVX-512: the sample's group is quantized as one run into the scratch, then packed.
void pack_tap_rows__avx2(const ConvGeometry& g, const TapRows& t, const float* x_sample,
                         float beta, int64_t group, uint32_t* row, uint32_t* a) {
  const int64_t n = g.cin_g() * g.h * g.w;
  int8_t* codes = reinterpret_cast<int8_t*>(row + codes_offset_dwords(g));
  quantize_i8__avx2(n, x_sample + group * n, beta, codes);
  pack<Avx2>(g, t, codes, row, a);
}

// Block-outer as on AVX-512; each block of kTapRowsNR channels runs as two halves of kNR.
void conv_tap_rows_ukernel__avx2(const TapRows& t, int64_t P, const uint32_t* a,
                                 const int32_t* off, const int8_t* wp, const int32_t* comp,
                                 int64_t cout, const AccScale* scale, void* c) {
  constexpr int kMR = 2;
  for (int64_t c0 = 0; c0 < cout; c0 += kNR) {
    const int64_t channels = min_i64(cout - c0, kNR);
    const int64_t block = c0 / kTapRowsNR, half = c0 % kTapRowsNR;
    const int32_t* w =
        reinterpret_cast<const int32_t*>(wp + block * t.steps * kTapRowsNR * 4) + half;
    AccScale sc;
    if (scale != nullptr) sc = scale->at(c0, c0 * P);
    const AccScale* s = scale ? &sc : nullptr;
    // int32 and float outputs have the same size: the offset is in elements either way.
    void* cc = static_cast<int32_t*>(c) + c0 * P;
    int64_t p0 = 0;
    auto bases = [&](int64_t* base, int mr) {
      for (int m = 0; m < mr; ++m) {
        const int64_t p = p0 + 8 * m;
        base[m] = p / t.width * t.pitch + p % t.width;
      }
    };
    int64_t base[kMR];
    for (; P - p0 > 8; p0 += 8 * kMR) {
      bases(base, kMR);
      tile<kMR>(P, p0, base, t.steps, a, off, w, comp + c0, channels, s, cc);
    }
    if (P - p0 > 0) {
      bases(base, 1);
      tile<1>(P, p0, base, t.steps, a, off, w, comp + c0, channels, s, cc);
    }
  }
}

}  // namespace chimera
