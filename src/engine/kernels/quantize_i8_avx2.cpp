// AVX2 loops of quantize_i8.h. Only intrinsics here (see elementwise_f32_avx2.cpp).
#include <immintrin.h>

#include "engine/kernels/quantize_i8.h"

namespace chimera {

// vmaxps returns its second operand when either is NaN: with the running maximum second, a NaN
// element is skipped, as std::fmax skips it.
float abs_max_f32__avx2(int64_t n, const float* x) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    m0 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask), m0);
    m1 = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i + 8), abs_mask), m1);
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, _mm256_max_ps(m0, m1));
  float m = 0.0f;
  for (float v : lanes) m = v > m ? v : m;
  for (; i < n; ++i) {
    const float a = _mm_cvtss_f32(_mm_and_ps(_mm_set_ss(x[i]), _mm256_castps256_ps128(abs_mask)));
    m = a > m ? a : m;  // false for NaN
  }
  return m;
}

// Clamping before rounding gives the same codes as rounding first (the bounds are integers);
// vmaxps with the bound second turns NaN into -127. Conversion rounds half to even (MXCSR
// default, as nearbyint).
void quantize_i8__avx2(int64_t n, const float* x, float beta, int8_t* q) {
  const __m256 vbeta = _mm256_set1_ps(beta), lo = _mm256_set1_ps(-127.0f),
               hi = _mm256_set1_ps(127.0f);
  auto codes = [&](const float* p) {
    const __m256 r = _mm256_min_ps(_mm256_max_ps(_mm256_div_ps(_mm256_loadu_ps(p), vbeta), lo), hi);
    return _mm256_cvtps_epi32(r);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i a = _mm256_packs_epi32(codes(x + i), codes(x + i + 8));
    const __m256i b = _mm256_packs_epi32(codes(x + i + 16), codes(x + i + 24));
    // packs works within 128-bit lanes: restore the element order with a dword permute.
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b),
                                                      _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), bytes);
  }
  for (; i < n; ++i) {
    __m128 r = _mm_div_ss(_mm_set_ss(x[i]), _mm_set_ss(beta));
    r = _mm_min_ss(_mm_max_ss(r, _mm_set_ss(-127.0f)), _mm_set_ss(127.0f));
    q[i] = static_cast<int8_t>(_mm_cvtss_si32(r));
  }
}

}  // namespace chimera
