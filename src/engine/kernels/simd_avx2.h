// Small AVX2 helpers for the *_avx2.cpp kernels only (they need -mavx2): internal linkage, so
// no baseline file can ever pick up an AVX2-compiled copy.
#pragma once

#include <immintrin.h>

#include <cstdint>

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

}  // namespace
}  // namespace chimera
