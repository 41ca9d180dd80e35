// Small AVX2 helpers for the *_avx2.cpp kernels only (they need -mavx2): internal linkage, so
// no baseline file can ever pick up an AVX2-compiled copy.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace chimera {
namespace {

inline __m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// acc + vpmaddubsw(u, s) in int16 lanes (u: unsigned bytes, s: signed bytes). The asm form
// keeps the accumulator in its register (with the intrinsics GCC 12 reassociates the sums,
// computes every product first and spills them).
inline __m256i maddubs_add(__m256i acc, __m256i u, __m256i s) {
  __m256i product;
  asm("vpmaddubsw %3, %2, %1\n\tvpaddw %1, %0, %0" : "+x"(acc), "=&x"(product) : "x"(u), "x"(s));
  return acc;
}
// The same with the signed bytes read from memory (32 bytes at p) by the instruction itself.
inline __m256i maddubs_add(__m256i acc, __m256i u, const void* p) {
  __m256i product;
  asm("vpmaddubsw %3, %2, %1\n\tvpaddw %1, %0, %0"
      : "+x"(acc), "=&x"(product)
      : "x"(u), "m"(*static_cast<const __m256i*>(p)));
  return acc;
}

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Au [M, ldu] = A [M, lda] ^ 0x80, i.e. a + 128 as unsigned bytes (the u8 operand of vpmaddubsw
// and vpdpbusd), for columns < K; columns [K, ldu) get 0x80 (a = 0), K <= ldu < K + 4. The
// panel kernels shift their activations once with this instead of on every broadcast. The end
// of a row goes in 16-, 8- and 4-byte steps: a zero-padded copy read back as one vector stalls
// on store forwarding (it took 2/3 of this function at K = 144).
inline void shift_rows_to_u8(int64_t M, int64_t K, const int8_t* A, int64_t lda, uint8_t* Au,
                             int64_t ldu) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m128i flip16 = _mm256_castsi256_si128(flip);
  for (int64_t m = 0; m < M; ++m) {
    const int8_t* a = A + m * lda;
    uint8_t* au = Au + m * ldu;
    int64_t k = 0;
    for (; k + 32 <= K; k += 32)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(au + k), _mm256_xor_si256(load(a + k), flip));
    if (k + 16 <= K) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(au + k),
                       _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)),
                                     flip16));
      k += 16;
    }
    if (k + 8 <= K) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(au + k),
                       _mm_xor_si128(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + k)),
                                     flip16));
      k += 8;
    }
    if (k + 4 <= K) {
      uint32_t x;
      std::memcpy(&x, a + k, 4);
      x ^= 0x80808080u;
      std::memcpy(au + k, &x, 4);
      k += 4;
    }
    for (; k < K; ++k) au[k] = static_cast<uint8_t>(a[k] ^ 0x80);
    for (; k < ldu; ++k) au[k] = 0x80;
  }
}

}  // namespace
}  // namespace chimera
