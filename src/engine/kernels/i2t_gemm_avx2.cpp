// AVX2 kernels on packed ternary weights. One 32-byte load is a whole 128-weight block; shifts
// and masks give the codes of weights 0..31, 32..63, 64..95, 96..127, each matching 32
// consecutive activations; vpmaddubsw(u, a), then minus the row sum. GEMV (one packed row at
// a time), small M (8x1: eight rows of A share a decoded block) and large M (3x16c4 panels):
// see the header. Both vpmaddubsw and vpaddw take a vector port per 32 products; with the decode that
// is the whole cost when the weights are warm, so the kernels are written to issue nothing else
// (asm steps keep GCC from reassociating the int16 sums and spilling them).
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
// A vpmaddubsw lane is u1*a1 + u2*a2 with codes u <= 2, |a| <= 127: |.| <= 508.
//
// GEMV (1 row of A): the codes are taken with one shift and four masks, w & 3, w & 0xC,
// (w >> 4) & 3, (w >> 4) & 0xC, so two of the four groups come out scaled by 4 (u <= 8,
// |lane| <= 2032). Each packed row keeps two int16 sums, `lo` (scale 1) and `hi` (scale 4), each
// fed two products per block: hi holds 8 blocks (8 * 2 * 2032 = 32512 <= 32767), lo 32
// (32 * 2 * 508), before vpmaddwd widens them into int32 sums; hi's is 4x its products, at most
// 2^21 * 8 * 127 < 2^31 in magnitude for K <= 2^22. Five decode ops per 128 weights instead of
// seven (three shifts, four masks), with the activations read as memory operands.
constexpr int64_t kGemvWidenHi = 8, kGemvWidenLo = 32;
// Software prefetch distance along the packed rows: from DRAM the hardware prefetcher alone
// leaves the core waiting. Measured at 4096 x 4096 from DRAM, 1 thread: no prefetch or 1 KB
// ahead 0.41 ms, 2 KB 0.35, 4-8 KB 0.33, 16 KB 0.33; warm it costs nothing.
constexpr int64_t kPrefetchBytes = 4096;
// Small M: whole packed rows this many rows ahead.
constexpr int64_t kPrefetchRows = 4;
// Small M: 8 rows of A share each decoded packed row (three shifts and four masks, the codes
// scaled by 1), so the decode costs 7/8 op per 128 products and the floor of a vpmaddubsw and a
// vpaddw per 32 products is nearly reached. int16 sums hold 16 blocks (16 * 4 * 508 = 32512).
constexpr int kGemmMR = 8;
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

// ---------------------------------------------------------------- GEMV, one row of A

// c = sum_k a[k] * w[k] for row m of A and the packed row w. The main loop takes two blocks
// (one 64-byte line) per step.
int32_t gemv_row(const Rows& rows, int64_t m, const uint8_t* w, int64_t K) {
  const __m256i m3 = _mm256_set1_epi8(0x03), mC = _mm256_set1_epi8(0x0C);
  const __m256i ones16 = _mm256_set1_epi16(1);
  const int64_t blocks = (K + kBlock - 1) / kBlock, full = rows.full;
  __m256i lo = _mm256_setzero_si256(), hi = lo, lo32 = lo, hi32 = lo;
  auto step = [&](const uint8_t* p, const int8_t* a) {
    const __m256i wl = load(p), wh = _mm256_srli_epi16(wl, 4);
    lo = maddubs_add(lo, _mm256_and_si256(wl, m3), a);
    hi = maddubs_add(hi, _mm256_and_si256(wl, mC), a + 32);
    lo = maddubs_add(lo, _mm256_and_si256(wh, m3), a + 64);
    hi = maddubs_add(hi, _mm256_and_si256(wh, mC), a + 96);
  };
  auto widen = [](__m256i& sum16, __m256i& sum32, __m256i ones) {
    sum32 = _mm256_add_epi32(sum32, _mm256_madd_epi16(sum16, ones));
    sum16 = _mm256_setzero_si256();
  };
  const int8_t* a = rows.a[m];
  int64_t b = 0;
  for (; b + 2 <= full; b += 2) {
    _mm_prefetch(reinterpret_cast<const char*>(w + b * kI2BlockBytes) + kPrefetchBytes,
                 _MM_HINT_T0);
    step(w + b * kI2BlockBytes, a + b * kBlock);
    step(w + (b + 1) * kI2BlockBytes, a + (b + 1) * kBlock);
    if ((b + 2) % kGemvWidenHi == 0) {
      widen(hi, hi32, ones16);
      if ((b + 2) % kGemvWidenLo == 0) widen(lo, lo32, ones16);
    }
  }
  // At most one more full block and the partial one: with the <= 6 (30) blocks since the last
  // widening of hi (lo) that stays within kGemvWidenHi (kGemvWidenLo).
  for (; b < blocks; ++b)
    step(w + b * kI2BlockBytes, b < full ? a + b * kBlock : rows.tail[m]);
  widen(hi, hi32, ones16);
  widen(lo, lo32, ones16);
  // hi32 holds 4x its products: a multiple of 4, so the shift is exact.
  return hsum(lo32) + (hsum(hi32) >> 2) - rows.sum[m];
}

// ---------------------------------------------------------------- small M, rows of A in parallel

// c[i * ldc] = sum_k a_{m0 + i}[k] * w[k] for MR rows of A and one packed row w. ahead > 0:
// prefetch the packed data that far ahead (one prefetch per block: two per line).
template <int MR>
void gemm_tile(const Rows& rows, int64_t m0, const uint8_t* w, int64_t K, int64_t ahead,
               int32_t* c, int64_t ldc) {
  const __m256i three = _mm256_set1_epi8(3), ones16 = _mm256_set1_epi16(1);
  const int64_t blocks = (K + kBlock - 1) / kBlock;
  alignas(32) int32_t acc[MR][8] = {};  // widened sums, touched every kWidenBlocks blocks
  const int8_t* a[MR];  // loop-invariant row pointers: plain base + offset addressing
  const int8_t* tail[MR];
  for (int i = 0; i < MR; ++i) a[i] = rows.a[m0 + i], tail[i] = rows.tail[m0 + i];
  __m256i acc16[MR];
  // One block: codes of w_block against the 128 activations at src[i] for each row.
  auto step = [&](const uint8_t* w_block, const int8_t* const* src, int64_t offset) {
    const __m256i wv = load(w_block);
    for (int s = 0; s < 4; ++s) {
      const __m256i u = _mm256_and_si256(s ? _mm256_srli_epi16(wv, 2 * s) : wv, three);
      for (int i = 0; i < MR; ++i)
        acc16[i] = maddubs_add(acc16[i], u, src[i] + offset + 32 * s);
    }
  };
  for (int64_t b0 = 0; b0 < blocks; b0 += kWidenBlocks) {
    for (auto& v : acc16) v = _mm256_setzero_si256();
    const int64_t b1 = min64(blocks, b0 + kWidenBlocks), in_place = min64(b1, rows.full);
    if (ahead > 0) {  // two loops: a test inside the loop costs 5 % warm
      for (int64_t b = b0; b < in_place; ++b) {
        _mm_prefetch(reinterpret_cast<const char*>(w + b * kI2BlockBytes) + ahead, _MM_HINT_T0);
        step(w + b * kI2BlockBytes, a, b * kBlock);
      }
    } else {
      for (int64_t b = b0; b < in_place; ++b) step(w + b * kI2BlockBytes, a, b * kBlock);
    }
    if (in_place < b1) step(w + in_place * kI2BlockBytes, tail, 0);  // the partial last block
    for (int i = 0; i < MR; ++i) {
      __m256i* dst = reinterpret_cast<__m256i*>(acc[i]);
      _mm256_store_si256(dst, _mm256_add_epi32(_mm256_load_si256(dst),
                                               _mm256_madd_epi16(acc16[i], ones16)));
    }
  }
  for (int i = 0; i < MR; ++i)
    c[i * ldc] = hsum(_mm256_load_si256(reinterpret_cast<const __m256i*>(acc[i]))) -
                 rows.sum[m0 + i];
}

// Rows of A [m0, m0 + mr) (mr < kGemmMR) times one packed row: the leftover rows of a block.
template <int MR>
void gemm_tail(const Rows& rows, int64_t m0, int64_t mr, const uint8_t* w, int64_t K,
               int64_t ahead, int32_t* c, int64_t ldc) {
  if constexpr (MR > 0) {
    if (mr == MR) return gemm_tile<MR>(rows, m0, w, K, ahead, c, ldc);
    gemm_tail<MR - 1>(rows, m0, mr, w, K, ahead, c, ldc);
  }
}

// ---------------------------------------------------------------- large M, panel tiles
//
// As in the AVX-512 panel kernel: weights s8 in {-1, 0, 1}, activations shifted to u8
// (a ^ 0x80 = a + 128), minus 128 * (column sum of w). vpmaddubsw gives per column two int16
// sums of 2 products each, |.| <= 2 * 255; kPanelWiden steps of them fit in int16 before
// vpmaddwd widens them into one int32 per column.
//
// The activations are shifted once per call into a copy (rows of 4 * ceil(K / 4) bytes, the
// columns past K holding 0x80, i.e. a = 0) rather than per broadcast: that vpxor was one of five
// vector ops per row and step. What is left is the floor, a vpmaddubsw and a vpaddw per 32
// products; the broadcasts are loads. Measured at [512, 2048] x [2048, 2048], 1 thread, AVX2:
// 3 x 16 tiles shifting in the loop 24.5 ms, the shifted copy with 6 x 16 tiles 20.9 ms.

constexpr int kPanelNV = 2;                   // vectors of 8 columns per tile
constexpr int64_t kPanelCols = 8 * kPanelNV;  // columns per panel
// Rows of A per tile: 6 x 2 int16 sums, 2 weight vectors and a broadcast take 15 of the 16
// vector registers; the int32 sums live in memory (touched every kPanelWiden steps).
constexpr int kPanelMR = 6;
constexpr int64_t kPanelWiden = 64;           // 64 * 510 = 32640 <= 32767

// out[t] = dword t of x[0..7]: an 8 x 8 transpose of 32-bit elements.
void transpose8x8(const __m256i* x, __m256i* out) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {  // per 128-bit lane L: x2i[2L], x2i+1[2L], x2i[2L+1], ...
    t[2 * i] = _mm256_unpacklo_epi32(x[2 * i], x[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(x[2 * i], x[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // u[4i + c], lane L: dword 4L + c of rows 4i .. 4i + 3
    u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    out[c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x20);
    out[4 + c] = _mm256_permute2x128_si256(u[c], u[4 + c], 0x31);
  }
}

// panel[(k4 * 2 + v) * 32 + c * 4 + k % 4] = w of row 8 v + c at column 4 k4 + k % 4, for
// k4 < i2_padded_cols(K) / 4; corr[n] = 128 * sum_k w. Columns past K and rows >= nb are zero.
// `rows`: scratch for 8 rows of i2_padded_cols(K) bytes. Rows are decoded whole (s8), then
// turned into panel vectors 8 x 8 dwords at a time (a scalar copy per 4 bytes was 5 % of a
// 512-token prompt).
void decode_panel(const uint8_t* W, int64_t nb, int64_t K, int8_t* panel, int32_t* corr,
                  int8_t* rows) {
  const int64_t kp = i2_padded_cols(K);
  for (int v = 0; v < kPanelNV; ++v) {
    decode_i2_rows(W, K, 8 * v, 8, nb, rows, corr);
    for (int64_t k8 = 0; k8 < kp / 32; ++k8) {  // 8 steps of 4 columns
      __m256i x[8], y[8];
      for (int r = 0; r < 8; ++r) x[r] = load(rows + r * kp + 32 * k8);
      transpose8x8(x, y);
      for (int j = 0; j < 8; ++j)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(panel + ((8 * k8 + j) * kPanelNV + v) * 32),
                            y[j]);
    }
  }
}

// Au [M, ldu] = A [M, lda] ^ 0x80, i.e. a + 128 as unsigned bytes (vpmaddubsw's u8 operand),
// for columns < K; columns [K, ldu) get 0x80 (a = 0), K <= ldu < K + 4. The panel kernel shifts
// its activations once with this instead of on every broadcast. The end of a row goes in 16-,
// 8- and 4-byte steps: a zero-padded copy read back as one vector stalls on store forwarding
// (it took 2/3 of this function at K = 144).
void shift_rows_to_u8(int64_t M, int64_t K, const int8_t* A, int64_t lda, uint8_t* Au,
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

// C[m][c] for MR rows of shifted activations (row stride ldu, k4s steps of 4 columns) and the
// panel's columns [0, nb). Loops over acc16[] have constant bounds so they unroll and the
// accumulators stay in registers.
template <int MR>
void panel_tile(const uint8_t* Au, int64_t ldu, int64_t k4s, const int8_t* panel,
                const int32_t* corr, int64_t nb, int32_t* C, int64_t ldc) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  // int32 sums: spilled to the stack when they do not fit in registers, touched only every
  // kPanelWiden steps (a zeroed array of them cost 10 % at K = 144 as a `rep stos`).
  __m256i acc[MR][kPanelNV];
  for (auto& row : acc)
    for (auto& v : row) v = _mm256_setzero_si256();
  for (int64_t k0 = 0; k0 < k4s; k0 += kPanelWiden) {
    const int64_t k1 = min64(k4s, k0 + kPanelWiden);
    __m256i acc16[MR][kPanelNV];
    for (auto& row : acc16)
      for (auto& v : row) v = _mm256_setzero_si256();
    for (int64_t k4 = k0; k4 < k1; ++k4) {
      __m256i w[kPanelNV];
      for (int v = 0; v < kPanelNV; ++v) w[v] = load(panel + (k4 * kPanelNV + v) * 32);
      for (int m = 0; m < MR; ++m) {
        int32_t x;
        std::memcpy(&x, Au + m * ldu + 4 * k4, 4);
        const __m256i a = _mm256_set1_epi32(x);
        for (int v = 0; v < kPanelNV; ++v) acc16[m][v] = maddubs_add(acc16[m][v], a, w[v]);
      }
    }
    for (int m = 0; m < MR; ++m)
      for (int v = 0; v < kPanelNV; ++v)
        acc[m][v] = _mm256_add_epi32(acc[m][v], _mm256_madd_epi16(acc16[m][v], ones16));
  }
  for (int v = 0; v < kPanelNV; ++v) {
    const __m256i cv = load(corr + 8 * v);
    const int64_t cols = nb - 8 * v;
    for (int m = 0; m < MR; ++m) {
      const __m256i out = _mm256_sub_epi32(acc[m][v], cv);
      if (cols >= 8) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(C + m * ldc + 8 * v), out);
      } else if (cols > 0) {
        alignas(32) int32_t part[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(part), out);
        for (int64_t c = 0; c < cols; ++c) C[m * ldc + 8 * v + c] = part[c];
      }
    }
  }
}

// Rows [m, m + mr) with mr < kPanelMR: the leftover rows of a block.
template <int MR>
void panel_rest(int64_t mr, const uint8_t* Au, int64_t ldu, int64_t k4s, const int8_t* panel,
                const int32_t* corr, int64_t nb, int32_t* C, int64_t ldc) {
  if constexpr (MR > 0) {
    if (mr == MR) return panel_tile<MR>(Au, ldu, k4s, panel, corr, nb, C, ldc);
    panel_rest<MR - 1>(mr, Au, ldu, k4s, panel, corr, nb, C, ldc);
  }
}

}  // namespace

void i2t_gemv_ukernel__avx2_1x1(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const uint8_t* W, int32_t* C, int64_t ldc) {
  const int64_t row_bytes = i2_row_bytes(K);
  Rows rows;
  for (int64_t m = 0; m < M; ++m) {
    prepare(rows, 1, A + m * lda, lda, K);
    // One packed row at a time: a single stream per thread. Measured at 4096 x 4096: tiles of
    // two rows were 8 % slower warm, four rows 17 % slower warm and 1.5x slower from DRAM.
    for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = gemv_row(rows, 0, W + n * row_bytes, K);
  }
}

void i2t_gemm_ukernel__avx2_8x1(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const uint8_t* W, int32_t* C, int64_t ldc) {
  // Packed rows outside, rows of A inside: a packed row stays in L1 while up to kRows rows of A
  // pass by, so W is read from memory once per kRows rows.
  const int64_t row_bytes = i2_row_bytes(K);
  Rows rows;
  for (int64_t m0 = 0; m0 < M; m0 += kRows) {
    const int64_t mc = min64(kRows, M - m0);
    prepare(rows, mc, A + m0 * lda, lda, K);
    for (int64_t n = 0; n < N; ++n) {
      const uint8_t* w = W + n * row_bytes;
      // The first pass over this row prefetches the one kPrefetchRows ahead, line by line.
      const int64_t ahead = m0 == 0 && n + kPrefetchRows < N ? kPrefetchRows * row_bytes : 0;
      int32_t* c = C + m0 * ldc + n;
      int64_t m = 0;
      for (; m + kGemmMR <= mc; m += kGemmMR) gemm_tile<kGemmMR>(rows, m, w, K, m == 0 ? ahead : 0, c + m * ldc, ldc);
      if (m < mc) gemm_tail<kGemmMR - 1>(rows, m, mc - m, w, K, m == 0 ? ahead : 0, c + m * ldc, ldc);
    }
  }
}

void i2t_gemm_ukernel__avx2_6x16c4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                   const uint8_t* W, int32_t* C, int64_t ldc) {
  // Per-thread scratch (ukernel_scratch) for the panel, its corrections, 8 rows of weights
  // and the shifted activations.
  const int64_t k4s = (K + 3) / 4, ldu = 4 * k4s;
  const int64_t panel_bytes = i2_padded_cols(K) * kPanelCols;
  const int64_t rows_bytes = 8 * i2_padded_cols(K);
  void* scratch = ukernel_scratch(panel_bytes + 4 * kPanelCols + rows_bytes + M * ldu);
  int8_t* panel = static_cast<int8_t*>(scratch);
  int32_t* corr = reinterpret_cast<int32_t*>(panel + panel_bytes);
  int8_t* rows = panel + panel_bytes + 4 * kPanelCols;
  uint8_t* Au = reinterpret_cast<uint8_t*>(rows + rows_bytes);
  shift_rows_to_u8(M, K, A, lda, Au, ldu);
  for (int64_t n0 = 0; n0 < N; n0 += kPanelCols) {
    const int64_t nb = min64(kPanelCols, N - n0);
    decode_panel(W + n0 * i2_row_bytes(K), nb, K, panel, corr, rows);
    int64_t m = 0;
    for (; m + kPanelMR <= M; m += kPanelMR)
      panel_tile<kPanelMR>(Au + m * ldu, ldu, k4s, panel, corr, nb, C + m * ldc + n0, ldc);
    if (m < M)
      panel_rest<kPanelMR - 1>(M - m, Au + m * ldu, ldu, k4s, panel, corr, nb, C + m * ldc + n0,
                               ldc);
  }
}

}  // namespace chimera
