// AVX2 kernels on packed ternary weights. The tile kernel (2x4): one 32-byte load is a whole
// 128-weight block; the shifts by 0, 2, 4, 6 and a mask with 3 give the codes of weights
// 0..31, 32..63, 64..95, 96..127, each matching 32 consecutive activations; vpmaddubsw(u, a),
// then minus the row sum. The panel kernel (3x16c4) for large M: see the header.
// Only intrinsics, C library calls and file-local helpers here, no std:: templates (see
// i2t_gemm_avx512vnni.cpp for why).
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "engine/kernels/simd_avx2.h"
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



// Sum of the 128 bytes at p.
__m256i block_sum(const int8_t* p) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i s16 = _mm256_setzero_si256();
  for (int s = 0; s < 4; ++s)
    s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(ones8, load(p + 32 * s)));
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

// ---------------------------------------------------------------- large M, panel tiles
//
// As in the AVX-512 panel kernel: weights s8 in {-1, 0, 1}, activations shifted to u8
// (a ^ 0x80 = a + 128), minus 128 * (column sum of w). vpmaddubsw gives per column two int16
// sums of 2 products each, |.| <= 2 * 255; kPanelWiden steps of them fit in int16 before
// vpmaddwd widens them into one int32 per column.

constexpr int kPanelNV = 2;                   // vectors of 8 columns per tile
constexpr int64_t kPanelCols = 8 * kPanelNV;  // columns per panel
constexpr int kPanelMR = 3;                   // rows of A per tile
constexpr int64_t kPanelWiden = 64;           // 64 * 510 = 32640 <= 32767

// panel[(k4 * 2 + v) * 32 + c * 4 + k % 4] = w of row 8 v + c at column 4 k4 + k % 4;
// corr[n] = 128 * sum_k w. Columns past K and rows >= nb are zero. `row`: i2_padded_cols(K).
void decode_panel(const uint8_t* W, int64_t nb, int64_t K, int8_t* panel, int32_t* corr,
                  int8_t* row) {
  const int64_t row_bytes = i2_row_bytes(K), k4s = (K + 3) / 4;
  const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  if (nb < kPanelCols) std::memset(panel, 0, static_cast<size_t>(k4s * kPanelCols * 4));
  for (int64_t n = 0; n < kPanelCols; ++n) corr[n] = 0;
  for (int64_t n = 0; n < nb; ++n) {
    for (int64_t b = 0; b < row_bytes / kI2BlockBytes; ++b) {
      const __m256i w = load(W + n * row_bytes + b * kI2BlockBytes);
      for (int s = 0; s < 4; ++s)
        _mm256_storeu_si256(
            reinterpret_cast<__m256i*>(row + b * kBlock + 32 * s),
            _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(w, 2 * s), three), one));
    }
    for (int64_t k = K; k < 4 * k4s; ++k) row[k] = 0;  // meets the shifted 0 activations
    int32_t sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += row[k];
    corr[n] = 128 * sum;
    int8_t* out = panel + n / 8 * 32 + n % 8 * 4;
    for (int64_t k4 = 0; k4 < k4s; ++k4) std::memcpy(out + k4 * kPanelCols * 4, row + 4 * k4, 4);
  }
}

// C[m][c] for MR rows of A and the panel's columns [0, nb). Loops over acc16[] have constant
// bounds so they unroll and the accumulators stay in registers.
template <int MR>
void panel_tile(const int8_t* A, int64_t lda, int64_t K, const int8_t* panel, const int32_t* corr,
                int64_t nb, int32_t* C, int64_t ldc) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80)), ones16 = _mm256_set1_epi16(1);
  const int64_t full = K / 4;
  __m256i acc[MR][kPanelNV];
  for (auto& row : acc)
    for (auto& v : row) v = _mm256_setzero_si256();
  // Steps [k0, k1) of 4 columns each; a4(m, k4) gives row m's 4 activations.
  auto steps = [&](int64_t k0, int64_t k1, auto a4) {
    __m256i acc16[MR][kPanelNV];
    for (auto& row : acc16)
      for (auto& v : row) v = _mm256_setzero_si256();
    for (int64_t k4 = k0; k4 < k1; ++k4) {
      __m256i w[kPanelNV];
      for (int v = 0; v < kPanelNV; ++v) w[v] = load(panel + (k4 * kPanelNV + v) * 32);
      for (int m = 0; m < MR; ++m) {
        const __m256i a = _mm256_xor_si256(_mm256_set1_epi32(a4(m, k4)), flip);
        for (int v = 0; v < kPanelNV; ++v)
          acc16[m][v] = _mm256_add_epi16(acc16[m][v], _mm256_maddubs_epi16(a, w[v]));
      }
    }
    for (int m = 0; m < MR; ++m)
      for (int v = 0; v < kPanelNV; ++v)
        acc[m][v] = _mm256_add_epi32(acc[m][v], _mm256_madd_epi16(acc16[m][v], ones16));
  };
  for (int64_t k0 = 0; k0 < full; k0 += kPanelWiden)
    steps(k0, min64(full, k0 + kPanelWiden), [&](int m, int64_t k4) {
      int32_t x;
      std::memcpy(&x, A + m * lda + 4 * k4, 4);
      return x;
    });
  if (full * 4 < K)  // the last 1..3 columns; the bytes past K meet zero weights
    steps(full, full + 1, [&](int m, int64_t k4) {
      int32_t x = 0;
      std::memcpy(&x, A + m * lda + 4 * k4, static_cast<size_t>(K - 4 * full));
      return x;
    });
  for (int v = 0; v < kPanelNV; ++v) {
    const __m256i cv = load(corr + 8 * v);
    const int64_t cols = nb - 8 * v;
    for (int m = 0; m < MR; ++m) {
      alignas(32) int32_t out[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_sub_epi32(acc[m][v], cv));
      for (int64_t c = 0; c < cols && c < 8; ++c) C[m * ldc + 8 * v + c] = out[c];
    }
  }
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

void i2t_gemm_ukernel__avx2_3x16c4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                   const uint8_t* W, int32_t* C, int64_t ldc) {
  // One allocation per call for the panel, its corrections and a row of weights; the driver
  // calls this on blocks of many rows, so it is amortised.
  const int64_t panel_bytes = (K + 3) / 4 * kPanelCols * 4;
  void* scratch = std::aligned_alloc(
      32, static_cast<size_t>(panel_bytes + 4 * kPanelCols + i2_padded_cols(K) + 32) / 32 * 32);
  if (scratch == nullptr) std::abort();  // no exceptions from kernels; a block is a few MB
  int8_t* panel = static_cast<int8_t*>(scratch);
  int32_t* corr = reinterpret_cast<int32_t*>(panel + panel_bytes);
  int8_t* row = panel + panel_bytes + 4 * kPanelCols;
  for (int64_t n0 = 0; n0 < N; n0 += kPanelCols) {
    const int64_t nb = min64(kPanelCols, N - n0);
    decode_panel(W + n0 * i2_row_bytes(K), nb, K, panel, corr, row);
    int64_t m = 0;
    for (; m + kPanelMR <= M; m += kPanelMR)
      panel_tile<kPanelMR>(A + m * lda, lda, K, panel, corr, nb, C + m * ldc + n0, ldc);
    for (; m < M; ++m) panel_tile<1>(A + m * lda, lda, K, panel, corr, nb, C + m * ldc + n0, ldc);
  }
  std::free(scratch);
}

}  // namespace chimera
