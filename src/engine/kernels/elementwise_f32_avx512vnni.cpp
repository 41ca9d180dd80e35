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

}  // namespace chimera
