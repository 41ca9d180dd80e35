// AVX-512 loops of quantize_i8.h (AVX-512F/BW; built with the VNNI file flags). Only intrinsics
// here (see elementwise_f32_avx2.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include "engine/kernels/quantize_i8.h"
#include "engine/kernels/quantize_i8_avx512.h"

namespace chimera {

// vmaxps returns its second operand when either is NaN: with the running maximum second, a NaN
// element is skipped, as std::fmax skips it. The tail is a masked load of zeros.
float abs_max_f32__avx512vnni(int64_t n, const float* x) {
  __m512 m0 = _mm512_setzero_ps(), m1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), m0);
    m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 16)), m1);
  }
  for (; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(mask, x + i)), m0);
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

void quantize_i8__avx512vnni(int64_t n, const float* x, float beta, int8_t* q) {
  const __m512 vbeta = _mm512_set1_ps(beta);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i c = quantize16_avx512(_mm512_maskz_loadu_ps(mask, x + i), vbeta);
    _mm_mask_storeu_epi8(q + i, mask, _mm512_cvtepi32_epi8(c));
  }
}

}  // namespace chimera
