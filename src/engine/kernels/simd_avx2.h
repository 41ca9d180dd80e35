// Small AVX2 helpers for the *_avx2.cpp kernels only (they need -mavx2): internal linkage, so
// no baseline file can ever pick up an AVX2-compiled copy.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "engine/kernels/i2_layout.h"

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

// One packed i2 row of K columns (i2_layout.h) as s8 weights w in {-1, 0, 1}:
// row[0, i2_padded_cols(K)), zero past K whatever the padding codes, so they meet the panel
// kernels' shifted zero activations harmlessly; returns sum_k w. The panel kernels' decode step.
inline int32_t decode_i2_row(const uint8_t* packed, int64_t K, int8_t* row) {
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  const int64_t kp = i2_padded_cols(K);
  for (int64_t b = 0; b < kp / kI2BlockCols; ++b) {
    const __m256i w = load(packed + b * kI2BlockBytes);
    for (int s = 0; s < 4; ++s)
      _mm256_storeu_si256(
          reinterpret_cast<__m256i*>(row + b * kI2BlockCols + 32 * s),
          _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(w, 2 * s), three), one));
  }
  for (int64_t k = K; k < kp; ++k) row[k] = 0;
  __m256i sum = _mm256_setzero_si256();  // |int16 lane| <= 2 per 32 bytes: no overflow
  for (int64_t k = 0; k < kp; k += 32)
    sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(one, load(row + k)),
                                                  ones16));
  return hsum(sum);
}

// Packed rows [first, first + count) of W (stride i2_row_bytes(K)) decoded into
// rows[r * i2_padded_cols(K) ...] with decode_i2_row, and corr[first + r] = 128 * sum_k w, the
// panel kernels' correction for activations shifted by 128. Rows >= nb are zeros.
inline void decode_i2_rows(const uint8_t* W, int64_t K, int64_t first, int64_t count, int64_t nb,
                           int8_t* rows, int32_t* corr) {
  const int64_t kp = i2_padded_cols(K);
  for (int64_t r = 0; r < count; ++r) {
    const int64_t n = first + r;
    int8_t* row = rows + r * kp;
    if (n >= nb) {
      std::memset(row, 0, static_cast<size_t>(kp));
      corr[n] = 0;
    } else {
      corr[n] = 128 * decode_i2_row(W + n * i2_row_bytes(K), K, row);
    }
  }
}

}  // namespace
}  // namespace chimera
