// AVX-512 VNNI packing and micro-kernel of the tap-row convolution (layouts in
// conv2d_tap_rows.h). A tile is kNR output channels x MR vectors of 16 output pixels: per step,
// MR loads of activations and kNR broadcast weight dwords feed kNR * MR vpdpbusd. Only
// intrinsics, inline asm and file-local code here (see i8t_gemm_avx512vnni.cpp for why).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "engine/kernels/conv2d_tap_rows.h"
#include "engine/kernels/conv2d_tap_rows_pack.h"
#include "engine/kernels/quantize_i8_avx512.h"

namespace chimera {
namespace {

constexpr int kNR = static_cast<int>(kTapRowsNR);

// acc + dpbusd(a, w). The asm form keeps the accumulator in its register (GCC 12 copies the
// intrinsic's accumulator around each use).
inline __m512i dpbusd(__m512i acc, __m512i a, __m512i w) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(w));
  return acc;
}

__mmask16 lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : static_cast<__mmask16>((1u << (count > 0 ? count : 0)) - 1);
}

// Pixels [p0, p0 + 16 * MR) of the block's channels, vector m read from a + base[m]; rows of c
// past `channels` or pixels past P are not written. Every loop touching acc[] has constant
// bounds, so it is unrolled and acc[] stays in registers (otherwise GCC keeps it on the stack).
template <int MR>
void tile(int64_t P, int64_t p0, const int64_t* base, int64_t steps, const uint32_t* a,
          const int32_t* off, const int8_t* wb, const int32_t* comp, int64_t channels,
          const AccScale* scale, void* c) {
  __m512i acc[kNR][MR];
#pragma GCC unroll 8
  for (int n = 0; n < kNR; ++n)
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) acc[n][m] = _mm512_setzero_si512();
  const uint32_t* ap[MR];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) ap[m] = a + base[m];
  const int32_t* w = reinterpret_cast<const int32_t*>(wb);
  for (int64_t s = 0; s < steps; ++s, w += kNR) {
    const int64_t o = off[s];
    __m512i av[MR];
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) av[m] = _mm512_loadu_si512(ap[m] + o);
#pragma GCC unroll 8
    for (int n = 0; n < kNR; ++n) {
      const __m512i wn = _mm512_set1_epi32(w[n]);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) acc[n][m] = dpbusd(acc[n][m], av[m], wn);
    }
  }
  if (scale == nullptr) {
    int32_t* ci = static_cast<int32_t*>(c);
#pragma GCC unroll 8
    for (int n = 0; n < kNR; ++n) {
      if (n >= channels) continue;
      const __m512i cn = _mm512_set1_epi32(comp[n]);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const int64_t p = p0 + 16 * m;
        _mm512_mask_storeu_epi32(ci + n * P + p, lanes(P - p), _mm512_sub_epi32(acc[n][m], cn));
      }
    }
    return;
  }
  // The float operations of int_epilogue.h. The rounding-mode forms (current mode, so the same
  // results) keep GCC from contracting the multiply and add into an FMA.
  float* cf = static_cast<float*>(c);
  const __m512 clip = _mm512_set1_ps(scale->clip), s = _mm512_set1_ps(scale->scale);
#pragma GCC unroll 8
  for (int n = 0; n < kNR; ++n) {
    if (n >= channels) continue;
    const __m512i cn = _mm512_set1_epi32(comp[n]);
    const __m512 bias = _mm512_set1_ps(scale->bias ? scale->bias[n] : 0.0f);
    const __m512 bn_mul = _mm512_set1_ps(scale->bn_mul ? scale->bn_mul[n] : 0.0f);
    const __m512 bn_add = _mm512_set1_ps(scale->bn_mul ? scale->bn_add[n] : 0.0f);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const int64_t p = p0 + 16 * m;
      const __mmask16 k = lanes(P - p);
      const __m512 product = _mm512_mul_round_ps(
          clip, _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[n][m], cn)), _MM_FROUND_CUR_DIRECTION);
      __m512 v = _mm512_mul_round_ps(s, product, _MM_FROUND_CUR_DIRECTION);
      if (scale->bias) v = _mm512_add_round_ps(v, bias, _MM_FROUND_CUR_DIRECTION);
      if (scale->bn_mul) v = _mm512_fmadd_ps(v, bn_mul, bn_add);
      if (scale->residual)
        v = _mm512_add_round_ps(v, _mm512_maskz_loadu_ps(k, scale->residual + n * P + p),
                                _MM_FROUND_CUR_DIRECTION);
      if (scale->relu) v = _mm512_max_ps(v, _mm512_setzero_ps());  // vmaxps: -0, NaN -> +0
      _mm512_mask_storeu_ps(cf + n * P + p, k, v);
    }
  }
}

struct Avx512 {
// dst[x] = the codes c[0][x], c[1][x], c[2][x], c[3][x] of the quad's channels, each + 128, for
// x < n.
static void interleave4(const int8_t* const* c, int64_t n, uint32_t* dst) {
  for (int64_t x = 0; x < n; x += 16) {
    const int64_t count = n - x < 16 ? n - x : 16;
    const __mmask16 m =
        count == 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1);
    store_quads(_mm_maskz_loadu_epi8(m, c[0] + x), _mm_maskz_loadu_epi8(m, c[1] + x),
                _mm_maskz_loadu_epi8(m, c[2] + x), _mm_maskz_loadu_epi8(m, c[3] + x), count,
                dst + x);
  }
}

// dst[i] = src[i * stride] for i < n, stride 1 or 2 vectorised. Reads at most src[2n - 1] for
// stride 2. Masked stores are slow on some CPUs, so tails are 8-wide or scalar.
static void gather(const uint32_t* src, int64_t stride, int64_t n, uint32_t* dst) {
  int64_t i = 0;
  if (stride == 1) {
    for (; i + 16 <= n; i += 16) _mm512_storeu_si512(dst + i, _mm512_loadu_si512(src + i));
    if (i + 8 <= n) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
      i += 8;
    }
  } else if (stride == 2) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_si512(dst + i, _mm512_permutex2var_epi32(_mm512_loadu_si512(src + 2 * i), even,
                                                             _mm512_loadu_si512(src + 2 * i + 16)));
    if (i + 8 <= n) {
      const __m512i v = _mm512_permutexvar_epi32(even, _mm512_loadu_si512(src + 2 * i));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_castsi512_si256(v));
      i += 8;
    }
  }
  for (; i < n; ++i) dst[i] = src[i * stride];
}
};

}  // namespace

void pack_tap_rows__avx512vnni(const ConvGeometry& g, const TapRows& t, const int8_t* x_sample,
                               int64_t group, uint32_t* row, uint32_t* a) {
  pack<Avx512>(g, t, x_sample + group * g.cin_g() * g.h * g.w, row, a);
}

// The sample's group is quantized as one run (a single stream the prefetcher follows; reading
// four channel rows at a time from floats is slower) into the scratch, then packed from there.
void pack_tap_rows__avx512vnni(const ConvGeometry& g, const TapRows& t, const float* x_sample,
                               float beta, int64_t group, uint32_t* row, uint32_t* a) {
  const int64_t n = g.cin_g() * g.h * g.w;
  const float* x = x_sample + group * n;
  int8_t* codes = reinterpret_cast<int8_t*>(row + codes_offset_dwords(g));
  const __m512 vbeta = _mm512_set1_ps(beta);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m =
        n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i c = quantize16_avx512(_mm512_maskz_loadu_ps(m, x + i), vbeta);
    _mm_mask_storeu_epi8(codes + i, m, _mm512_cvtepi32_epi8(c));
  }
  pack<Avx512>(g, t, codes, row, a);
}

// Block-outer: a block's weights (steps * 32 bytes) stay in L1 across the tiles, and so do the
// packed activations of a sample for the usual sizes.
void conv_tap_rows_ukernel__avx512vnni(const TapRows& t, int64_t P, const uint32_t* a,
                                       const int32_t* off, const int8_t* wp, const int32_t* comp,
                                       int64_t cout, const AccScale* scale, void* c) {
  for (int64_t b = 0; b * kNR < cout; ++b) {
    const int64_t channels = cout - b * kNR < kNR ? cout - b * kNR : kNR;
    const int8_t* wb = wp + b * t.steps * kNR * 4;
    const int32_t* cb = comp + b * kNR;
    AccScale sb;
    if (scale != nullptr) sb = scale->at(b * kNR, b * kNR * P);
    const AccScale* s = scale ? &sb : nullptr;
    // int32 and float outputs have the same size: the offset is in elements either way.
    void* cc = static_cast<int32_t*>(c) + b * kNR * P;
    // Tiles of 2 vectors: 16 accumulators, 2 activation vectors and the broadcast weights.
    // Measured on Zen 5, a broadcast into a register per weight beats vpdpbusd's embedded
    // broadcast, and 2 vectors per tile beat 3 (which need the embedded form or spill).
    for (int64_t p0 = 0; p0 < P; p0 += 32) {
      int64_t base[2];
      for (int m = 0; m < 2; ++m) {
        const int64_t p = p0 + 16 * m;
        base[m] = p / t.width * t.pitch + p % t.width;
      }
      if (P - p0 > 16)
        tile<2>(P, p0, base, t.steps, a, off, wb, cb, channels, s, cc);
      else
        tile<1>(P, p0, base, t.steps, a, off, wb, cb, channels, s, cc);
    }
  }
}

}  // namespace chimera
