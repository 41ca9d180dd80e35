// AVX2 kernel on packed ternary weights: one 32-byte load is a whole 128-weight block; the
// shifts by 0, 2, 4, 6 and a mask with 3 give the codes of weights 0..31, 32..63, 64..95,
// 96..127, each matching 32 consecutive activations. vpmaddubsw(u, a) then minus the row sum.
// Only intrinsics, C library calls and file-local helpers here, no std:: templates (see
// i2t_gemm_avx512vnni.cpp for why).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm_ukernels.h"

namespace chimera {
namespace {

constexpr int64_t kBlock = kI2BlockCols;
constexpr int kMR = 2;  // rows of A per tile
constexpr int kNR = 4;  // packed rows per tile
// A vpmaddubsw lane is u1*a1 + u2*a2 with |.| <= 2*2*127 = 508; a block adds 4 of them, so
// int16 partial sums hold 16 blocks (16 * 4 * 508 = 32512 <= 32767) before they are widened.
constexpr int64_t kWidenBlocks = 16;

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

__m256i load(const void* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// Sum of the 128 bytes at p.
__m256i block_sum(const int8_t* p) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i s16 = _mm256_setzero_si256();
  for (int s = 0; s < 4; ++s) s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(ones8, load(p + 32 * s)));
  return _mm256_madd_epi16(s16, ones16);
}

// Up to kRows rows of A: full blocks read in place, the last partial block (if any) from a
// zero-padded copy, so codes past K meet zeros.
constexpr int64_t kRows = 64;
struct Rows {
  const int8_t* a[kRows];
  alignas(32) int8_t tail[kRows][kBlock];
  int32_t sum[kRows];
  int64_t full;  // blocks of 128 columns read in place
  const int8_t* block(int64_t m, int64_t b) const { return b < full ? a[m] + b * kBlock : tail[m]; }
};

void prepare(Rows& rows, int64_t M, const int8_t* A, int64_t lda, int64_t K) {
  rows.full = K / kBlock;
  for (int64_t m = 0; m < M; ++m) {
    rows.a[m] = A + m * lda;
    std::memset(rows.tail[m], 0, kBlock);
    std::memcpy(rows.tail[m], rows.a[m] + rows.full * kBlock,
                static_cast<size_t>(K - rows.full * kBlock));
    __m256i acc = block_sum(rows.tail[m]);
    for (int64_t b = 0; b < rows.full; ++b)
      acc = _mm256_add_epi32(acc, block_sum(rows.a[m] + b * kBlock));
    rows.sum[m] = hsum(acc);
  }
}

// out[i * 4 + n] = sum_k a[m0 + i][k] * w[n][k] for MR rows of A and 4 packed rows w[].
template <int MR>
void tile(const Rows& rows, int64_t m0, const uint8_t* const* w, int64_t K, int32_t* out) {
  const __m256i three = _mm256_set1_epi8(3), ones16 = _mm256_set1_epi16(1);
  const int64_t blocks = (K + kBlock - 1) / kBlock;
  __m256i acc[MR * kNR], acc16[MR * kNR];
  for (auto& v : acc) v = _mm256_setzero_si256();
  for (int64_t b0 = 0; b0 < blocks; b0 += kWidenBlocks) {
    for (auto& v : acc16) v = _mm256_setzero_si256();
    for (int64_t b = b0; b < min64(blocks, b0 + kWidenBlocks); ++b) {
      __m256i wv[kNR];
      for (int n = 0; n < kNR; ++n) wv[n] = load(w[n] + b * kI2BlockBytes);
      for (int s = 0; s < 4; ++s) {
        __m256i u[kNR];
        for (int n = 0; n < kNR; ++n)
          u[n] = _mm256_and_si256(_mm256_srli_epi16(wv[n], 2 * s), three);
        for (int i = 0; i < MR; ++i) {
          const __m256i a = load(rows.block(m0 + i, b) + 32 * s);
          for (int n = 0; n < kNR; ++n)
            acc16[i * kNR + n] =
                _mm256_add_epi16(acc16[i * kNR + n], _mm256_maddubs_epi16(u[n], a));
        }
      }
    }
    for (int i = 0; i < MR * kNR; ++i)
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(acc16[i], ones16));
  }
  for (int i = 0; i < MR; ++i)
    for (int n = 0; n < kNR; ++n) out[i * kNR + n] = hsum(acc[i * kNR + n]) - rows.sum[m0 + i];
}

template <int MR>
void store_tile(const Rows& rows, int64_t m0, const uint8_t* const* w, int64_t nr, int64_t K,
                int32_t* C, int64_t ldc) {
  int32_t out[kMR * kNR];
  tile<MR>(rows, m0, w, K, out);
  for (int i = 0; i < MR; ++i)
    for (int64_t n = 0; n < nr; ++n) C[i * ldc + n] = out[i * kNR + n];
}

}  // namespace

void i2t_gemm_ukernel__avx2_2x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const uint8_t* W, int32_t* C, int64_t ldc) {
  // Packed rows outside, rows of A inside: a 4-row tile of W stays in L1 while up to kRows rows
  // of A pass by, so W is read from memory once.
  const int64_t row_bytes = i2_row_bytes(K);
  Rows rows;
  for (int64_t m0 = 0; m0 < M; m0 += kRows) {
    const int64_t mc = min64(kRows, M - m0);
    prepare(rows, mc, A + m0 * lda, lda, K);
    for (int64_t n0 = 0; n0 < N; n0 += kNR) {
      const int64_t nr = min64(kNR, N - n0);
      const uint8_t* w[kNR];
      for (int n = 0; n < kNR; ++n) w[n] = W + (n0 + min64(n, nr - 1)) * row_bytes;
      int32_t* c = C + m0 * ldc + n0;
      int64_t m = 0;
      for (; m + kMR <= mc; m += kMR) store_tile<kMR>(rows, m, w, nr, K, c + m * ldc, ldc);
      if (m < mc) store_tile<1>(rows, m, w, nr, K, c + m * ldc, ldc);
    }
  }
}

}  // namespace chimera
