// The AVX-512 vector step of quantize_i8, shared by the AVX-512 files that quantize (the plain
// quantizer and the convolution packing that quantizes as it packs). Include only from files
// compiled with AVX-512 flags; it is internal to each (static).
#pragma once

#include <immintrin.h>

namespace chimera {

// Codes of 16 floats: clamp(round(v / beta), -127, 127) as int32 lanes. Clamping before
// rounding gives the same codes as rounding first (the bounds are integers); vmaxps with the
// bound second turns NaN into -127; the conversion rounds half to even (as nearbyint).
[[gnu::always_inline]] static inline __m512i quantize16_avx512(__m512 v, __m512 beta) {
  const __m512 r = _mm512_min_ps(_mm512_max_ps(_mm512_div_ps(v, beta), _mm512_set1_ps(-127.0f)),
                                 _mm512_set1_ps(127.0f));
  return _mm512_cvt_roundps_epi32(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

}  // namespace chimera
