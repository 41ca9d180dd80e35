// AVX-512 loops of elementwise_f32.h (AVX-512F; built with the VNNI file flags). Only
// intrinsics here: an inline library function compiled with these flags could be the copy the
// linker keeps for every caller. Tails use masked loads and stores.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "engine/kernels/elementwise_f32.h"

namespace chimera {
namespace {

__mmask16 tail(int64_t left) {
  return static_cast<__mmask16>((1u << left) - 1);
}

}  // namespace

// The rounding-mode form (current mode: the same sums) is never contracted with anything.
void add_f32__avx512vnni(int64_t n, const float* a, const float* b, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_add_round_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i),
                                                _MM_FROUND_CUR_DIRECTION));
  if (i < n) {
    const __mmask16 m = tail(n - i);
    _mm512_mask_storeu_ps(
        y + i, m,
        _mm512_add_round_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i),
                            _MM_FROUND_CUR_DIRECTION));
  }
}

// x > 0 is false for NaN and -0, which give +0 as in the scalar loop.
void relu_f32__avx512vnni(int64_t n, const float* x, float* y) {
  const __m512 zero = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    _mm512_storeu_ps(y + i, _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v));
  }
  if (i < n) {
    const __mmask16 m = tail(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v));
  }
}

void relu_backward_f32__avx512vnni(int64_t n, const float* y, const float* g, float* dx) {
  const __m512 zero = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __mmask16 pos = _mm512_cmp_ps_mask(_mm512_loadu_ps(y + i), zero, _CMP_GT_OQ);
    _mm512_storeu_ps(dx + i, _mm512_maskz_loadu_ps(pos, g + i));
  }
  if (i < n) {
    const __mmask16 m = tail(n - i);
    const __mmask16 pos = _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, y + i), zero, _CMP_GT_OQ);
    _mm512_mask_storeu_ps(dx + i, m, _mm512_maskz_loadu_ps(pos, g + i));
  }
}

void fma_f32__avx512vnni(int64_t n, const float* x, float a, float b, float* y) {
  const __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), va, vb));
  if (i < n) {
    const __mmask16 m = tail(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), va, vb));
  }
}

void i8_to_f32__avx512vnni(int64_t n, const int8_t* x, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    _mm512_storeu_ps(y + i, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)));
  }
  if (i < n) {
    const __mmask16 m = tail(n - i);
    const __m128i b = _mm_maskz_loadu_epi8(m, x + i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)));
  }
}

// exp_f32__scalar's steps on 16 lanes.
namespace {
__m512 exp16(__m512 x) {
  using namespace exp_f32_constants;
  const __m512 v = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(kExpLo)), _mm512_set1_ps(kExpHi));
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-kLn2Hi), v);
  r = _mm512_fmadd_ps(k, _mm512_set1_ps(-kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpP[0]);
  for (int j = 1; j < 6; ++j) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP[j]));
  const __m512 e = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  const __m512i ki = _mm512_cvtps_epi32(k);  // exact: k is an integer
  // k / 2 rounded towards zero, as C++'s int division.
  const __m512i k1 = _mm512_srai_epi32(_mm512_add_epi32(ki, _mm512_srli_epi32(ki, 31)), 1);
  const __m512i k2 = _mm512_sub_epi32(ki, k1), bias = _mm512_set1_epi32(127);
  __m512 y = _mm512_mul_ps(
      _mm512_mul_ps(e, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k1, bias), 23))),
      _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(k2, bias), 23)));
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpHi), _CMP_GT_OQ),
                         _mm512_set1_ps(__builtin_inff()));
  y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpLo), _CMP_LT_OQ),
                         _mm512_setzero_ps());
  return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}
}  // namespace

void exp_f32__avx512vnni(int64_t n, const float* x, float* y) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, exp16(_mm512_loadu_ps(x + i)));
  if (i < n) {
    const __mmask16 m = tail(n - i);
    _mm512_mask_storeu_ps(y + i, m, exp16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}

}  // namespace chimera
