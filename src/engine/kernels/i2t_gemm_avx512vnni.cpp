// AVX-512 VNNI kernels on packed ternary weights: the GEMV (1x4), the small-M tile (4x4) and
// the large-M panel kernel (16x16c4). The first two decode a 128-weight block from one 32-byte
// load broadcast to both 256-bit halves: byte i holds weights i, i+32, i+64, i+96, so masking
// the low half with 0x03 and the high half with 0x0C gives the codes of weights 0..63 in their
// natural order, scaled by 1 (low half) and 4 (high half). vpdpbusd sums 4 products per int32
// lane and the 4 bytes of a lane sit in the same half, so each accumulator lane carries one
// known scale; it is divided out exactly (arithmetic shift of a multiple of 4^s) at the end.
// Only intrinsics, C library calls and file-local helpers here, no std:: templates: an inline
// function instantiated here with AVX-512 flags could be picked by the linker for the baseline
// build too (see i8t_gemm_avx512vnni.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm_ukernels.h"
#include "engine/kernels/simd_avx2.h"

namespace chimera {
namespace {

constexpr int64_t kBlock = kI2BlockCols;  // 128 weights, 2 vectors of activations

// acc += vpdpbusd(u, a). GCC 12 does not keep the accumulator of _mm512_dpbusd_epi32 in its
// destination register: it copies every accumulator in and out around each use and spills some
// (see the i8t kernel's disassembly); the asm form updates it in place.
inline __m512i dpbusd(__m512i acc, __m512i u, __m512i a) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(a));
  return acc;
}
// Bytes [k, K) of p, at most 64; the rest of the vector is zero and never read.
__m512i load_tail(const int8_t* p, int64_t k, int64_t K) {
  const int64_t r = K - k;
  if (r <= 0) return _mm512_setzero_si512();
  const __mmask64 mask = r >= 64 ? ~__mmask64{0} : (__mmask64{1} << r) - 1;
  return _mm512_maskz_loadu_epi8(mask, p + k);
}

int32_t row_sum(const int8_t* a, int64_t K) {
  const __m512i ones8 = _mm512_set1_epi8(1);
  __m512i acc = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) acc = _mm512_dpbusd_epi32(acc, ones8, _mm512_loadu_si512(a + k));
  acc = _mm512_dpbusd_epi32(acc, ones8, load_tail(a, k, K));
  return _mm512_reduce_add_epi32(acc);
}

// The 32 bytes of a block in both halves of a vector.
__m512i load_block(const uint8_t* p) {
  return _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Bytes: `lo` in the low 256 bits, `hi` in the high 256 bits.
__m512i halves8(char lo, char hi) {
  return _mm512_inserti64x4(_mm512_set1_epi8(lo), _mm256_set1_epi8(hi), 1);
}
__m512i halves32(int lo, int hi) {
  return _mm512_inserti64x4(_mm512_set1_epi32(lo), _mm256_set1_epi32(hi), 1);
}

// ---------------------------------------------------------------- GEMV, 1 x NR

// Software prefetch distance along the packed rows (weights from DRAM; see the AVX2 GEMV).
constexpr int64_t kGemvPrefetchBytes = 4096;

// c[n] = sum_k a[k] * w_n[k] for NR packed rows starting at W. acc_lo takes weights 0..63 of
// each block (scales 1 | 4 per half), acc_hi weights 64..127 (16 | 64). Lane bound for
// K <= 2^22: 2^22 / 128 blocks * 4 * (2 * 64) * 127 < 2^31.
template <int NR>
void gemv_rows(const int8_t* a, int64_t K, int32_t rs, const uint8_t* W, int64_t row_bytes,
               int32_t* c) {
  const __m512i mask_lo = halves8(0x03, 0x0C), mask_hi = halves8(0x30, static_cast<char>(0xC0));
  __m512i acc_lo[NR], acc_hi[NR];
  for (int n = 0; n < NR; ++n) acc_lo[n] = acc_hi[n] = _mm512_setzero_si512();
  auto step = [&](int64_t b, __m512i a0, __m512i a1) {
    for (int n = 0; n < NR; ++n) {
      const __m512i w = load_block(W + n * row_bytes + b * kI2BlockBytes);
      acc_lo[n] = dpbusd(acc_lo[n], _mm512_and_si512(w, mask_lo), a0);
      acc_hi[n] = dpbusd(acc_hi[n], _mm512_and_si512(w, mask_hi), a1);
    }
  };
  const int64_t full = K / kBlock;
  int64_t b = 0;
  for (; b + 2 <= full; b += 2) {  // a 64-byte line of each packed row per step
    for (int n = 0; n < NR; ++n)
      _mm_prefetch(reinterpret_cast<const char*>(W + n * row_bytes + b * kI2BlockBytes) +
                       kGemvPrefetchBytes,
                   _MM_HINT_T0);
    step(b, _mm512_loadu_si512(a + b * kBlock), _mm512_loadu_si512(a + b * kBlock + 64));
    step(b + 1, _mm512_loadu_si512(a + (b + 1) * kBlock),
         _mm512_loadu_si512(a + (b + 1) * kBlock + 64));
  }
  if (b < full) step(b, _mm512_loadu_si512(a + b * kBlock), _mm512_loadu_si512(a + b * kBlock + 64));
  if (full * kBlock < K)
    step(full, load_tail(a, full * kBlock, K), load_tail(a, full * kBlock + 64, K));

  const __m512i shift_lo = halves32(0, 2), shift_hi = halves32(4, 6);
  for (int n = 0; n < NR; ++n)
    c[n] = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_srav_epi32(acc_lo[n], shift_lo),
                                                    _mm512_srav_epi32(acc_hi[n], shift_hi))) -
           rs;
}

// ---------------------------------------------------------------- small M, MR x 4 tiles

constexpr int kNR = 4;

// Lane i of the result: the sum of the lanes of v[i].
__m512i transpose_sum16(const __m512i* v) {
  __m512i t[8], s[4];
  for (int i = 0; i < 8; ++i)  // per 128-bit chunk: v0[0]+v0[2], v1[0]+v1[2], v0[1]+..., v1[1]+...
    t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]),
                            _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]));
  for (int j = 0; j < 4; ++j)  // per chunk, lane l: this chunk's share of v[4j + l]
    s[j] = _mm512_add_epi32(_mm512_unpacklo_epi64(t[2 * j], t[2 * j + 1]),
                            _mm512_unpackhi_epi64(t[2 * j], t[2 * j + 1]));
  const __m512i x0 = _mm512_add_epi32(_mm512_shuffle_i64x2(s[0], s[1], 0x44),
                                      _mm512_shuffle_i64x2(s[0], s[1], 0xEE));
  const __m512i x1 = _mm512_add_epi32(_mm512_shuffle_i64x2(s[2], s[3], 0x44),
                                      _mm512_shuffle_i64x2(s[2], s[3], 0xEE));
  return _mm512_add_epi32(_mm512_shuffle_i64x2(x0, x1, 0x88), _mm512_shuffle_i64x2(x0, x1, 0xDD));
}

// Sums of (w[n] + 1) * a[m] over K in lane m * 4 + n (rows >= MR are zero). One block is
// decoded per packed row (vpand; vpsrlw + vpand) and used by all MR rows of A. ahead > 0:
// prefetch the packed rows that far ahead (weights from DRAM), one line per row every 2 blocks.
template <int MR>
__m512i tile(const int8_t* const* a, const uint8_t* const* w, int64_t K, int64_t ahead) {
  const __m512i mask = halves8(0x03, 0x0C);
  __m512i acc[kNR * kNR];  // acc[m * 4 + n]
  for (auto& v : acc) v = _mm512_setzero_si512();
  auto step = [&](int64_t b, auto load_a) {
    __m512i u0[kNR], u1[kNR];
    for (int n = 0; n < kNR; ++n) {
      const __m512i wv = load_block(w[n] + b * kI2BlockBytes);
      u0[n] = _mm512_and_si512(wv, mask);
      u1[n] = _mm512_and_si512(_mm512_srli_epi16(wv, 4), mask);
    }
    for (int m = 0; m < MR; ++m) {
      const __m512i a0 = load_a(a[m], b * kBlock), a1 = load_a(a[m], b * kBlock + 64);
      for (int n = 0; n < kNR; ++n) {
        acc[m * kNR + n] = dpbusd(acc[m * kNR + n], u0[n], a0);
        acc[m * kNR + n] = dpbusd(acc[m * kNR + n], u1[n], a1);
      }
    }
  };
  const int64_t full = K / kBlock;
  for (int64_t b = 0; b < full; ++b) {
    if (ahead > 0 && b % 2 == 0)
      for (int n = 0; n < kNR; ++n)
        _mm_prefetch(reinterpret_cast<const char*>(w[n] + b * kI2BlockBytes) + ahead, _MM_HINT_T0);
    step(b, [](const int8_t* p, int64_t k) { return _mm512_loadu_si512(p + k); });
  }
  if (full * kBlock < K) step(full, [K](const int8_t* p, int64_t k) { return load_tail(p, k, K); });
  const __m512i shift = halves32(0, 2);
  for (auto& v : acc) v = _mm512_srav_epi32(v, shift);
  return transpose_sum16(acc);
}

// C[m][n] for the MR rows a[] (row sums rs[]) and the nr <= 4 packed rows w[] (padded by
// repeating the last), C pointing at (a[0], w[0]).
template <int MR>
void store_tile(const int8_t* const* a, const int32_t* rs, const uint8_t* const* w, int64_t nr,
                int64_t K, int64_t ahead, int32_t* C, int64_t ldc) {
  alignas(64) int32_t out[kNR * kNR] = {};
  for (int m = 0; m < MR; ++m)
    for (int n = 0; n < kNR; ++n) out[m * kNR + n] = rs[m];
  _mm512_store_si512(out, _mm512_sub_epi32(tile<MR>(a, w, K, ahead), _mm512_load_si512(out)));
  const __mmask8 cols = static_cast<__mmask8>((1u << nr) - 1);
  for (int m = 0; m < MR; ++m)
    _mm_mask_storeu_epi32(C + m * ldc, cols,
                          _mm_load_si128(reinterpret_cast<const __m128i*>(out + m * kNR)));
}

// ---------------------------------------------------------------- large M, panel tiles
//
// Here the roles swap: the weights are the signed operand (w in {-1, 0, 1} as s8) and the
// activations the unsigned one, shifted by 128 (a ^ 0x80 = a + 128 in u8), so
//   sum_k (a + 128) * w = sum_k a * w + 128 * sum_k w,
// and the correction is a per-column constant computed with the panel: no per-row sums of A.

constexpr int64_t kPanelCols = 64;  // columns decoded per panel: 4 vectors of 16

// out[j] lane r = dword j of x[r]: a 16 x 16 transpose of 32-bit elements.
void transpose16x16(const __m512i* x, __m512i* out) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane L: x2i[4L], x2i+1[4L], x2i[4L+1], ...
    t[2 * i] = _mm512_unpacklo_epi32(x[2 * i], x[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(x[2 * i], x[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // u[4i + c], lane L: dword 4L + c of rows 4i .. 4i + 3
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {  // 4 x 4 transpose of the 128-bit lanes of u[c + 4i]
    const __m512i p0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44);
    const __m512i p1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xEE);
    const __m512i p2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
    const __m512i p3 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xEE);
    out[c] = _mm512_shuffle_i32x4(p0, p2, 0x88);
    out[4 + c] = _mm512_shuffle_i32x4(p0, p2, 0xDD);
    out[8 + c] = _mm512_shuffle_i32x4(p1, p3, 0x88);
    out[12 + c] = _mm512_shuffle_i32x4(p1, p3, 0xDD);
  }
}

// Decodes packed rows [0, nb) into panel[(k4 * NV + v) * 64 + c * 4 + k % 4] = w of row 16 v + c
// at column k = 4 k4 + k % 4 (s8), the operand order of vpdpbusd against 4 broadcast
// activations, for k4 < i2_padded_cols(K) / 4; and corr[16 v + c] = 128 * sum_k w. Columns past
// K and rows >= nb are zero. `rows` is scratch for 16 rows of weights, 16 * i2_padded_cols(K)
// bytes. Rows are decoded whole, then turned into panel vectors 16 x 16 dwords at a time.
void decode_panel(const uint8_t* W, int64_t nb, int64_t K, int NV, int8_t* panel, int32_t* corr,
                  int8_t* rows) {
  const int64_t kp = i2_padded_cols(K);
  for (int v = 0; v < NV; ++v) {
    decode_i2_rows(W, K, 16 * v, 16, nb, rows, corr);
    for (int64_t k16 = 0; k16 < kp / 64; ++k16) {  // 16 steps of 4 columns
      __m512i x[16], y[16];
      for (int r = 0; r < 16; ++r) x[r] = _mm512_loadu_si512(rows + r * kp + 64 * k16);
      transpose16x16(x, y);
      for (int j = 0; j < 16; ++j)
        _mm512_storeu_si512(panel + ((16 * k16 + j) * NV + v) * 64, y[j]);
    }
  }
}

// C[m][c] for MR rows of A and the panel's columns [0, nb): vpdpbusd of 4 bytes of a row of A
// broadcast to all lanes with each panel vector, so each lane sums over k for one column. The
// shift to u8 stays a vpxor per broadcast here (the AVX2 kernel shifts a copy of A once): it
// issues beside the vpdpbusd, and the shifted copy measured 20 % slower at M = K = N = 2048.
// Every loop touching acc[] has constant bounds and no calls, so it is unrolled and acc[] stays
// in registers (otherwise GCC stores all of it on every iteration).
template <int MR, int NV>
void panel_tile(const int8_t* A, int64_t lda, int64_t K, const int8_t* panel, const int32_t* corr,
                int64_t nb, int32_t* C, int64_t ldc) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc[MR][NV];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_si512();
  const int64_t full = K / 4;
  for (int64_t k4 = 0; k4 < full; ++k4) {
    __m512i w[NV];
    for (int v = 0; v < NV; ++v) w[v] = _mm512_loadu_si512(panel + (k4 * NV + v) * 64);
    for (int m = 0; m < MR; ++m) {
      int32_t a4;
      std::memcpy(&a4, A + m * lda + 4 * k4, 4);
      const __m512i a = _mm512_xor_si512(_mm512_set1_epi32(a4), flip);
      for (int v = 0; v < NV; ++v) acc[m][v] = dpbusd(acc[m][v], a, w[v]);
    }
  }
  if (full * 4 < K) {  // the last 1..3 columns; the bytes past K meet zero weights
    const __mmask16 valid = static_cast<__mmask16>((1u << (K - 4 * full)) - 1);
    __m512i w[NV];
    for (int v = 0; v < NV; ++v) w[v] = _mm512_loadu_si512(panel + (full * NV + v) * 64);
    for (int m = 0; m < MR; ++m) {
      const __m128i a4 = _mm_maskz_loadu_epi8(valid, A + m * lda + 4 * full);
      const __m512i a = _mm512_xor_si512(_mm512_broadcastd_epi32(a4), flip);
      for (int v = 0; v < NV; ++v) acc[m][v] = dpbusd(acc[m][v], a, w[v]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    const __m512i cv = _mm512_loadu_si512(corr + 16 * v);
    const int64_t cols = nb - 16 * v;  // <= 0: a vector of padding columns, not stored
    const __mmask16 mask =
        cols >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << (cols > 0 ? cols : 0)) - 1);
    for (int m = 0; m < MR; ++m)
      _mm512_mask_storeu_epi32(C + m * ldc + 16 * v, mask, _mm512_sub_epi32(acc[m][v], cv));
  }
}

// All M rows against one decoded panel: MR-row tiles, then single rows.
template <int MR, int NV>
void panel_rows(int64_t M, const int8_t* A, int64_t lda, int64_t K, const int8_t* panel,
                const int32_t* corr, int64_t nb, int32_t* C, int64_t ldc) {
  int64_t m = 0;
  for (; m + MR <= M; m += MR)
    panel_tile<MR, NV>(A + m * lda, lda, K, panel, corr, nb, C + m * ldc, ldc);
  for (; m < M; ++m) panel_tile<1, NV>(A + m * lda, lda, K, panel, corr, nb, C + m * ldc, ldc);
}

}  // namespace

void i2t_gemv_ukernel__avx512vnni_1x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                      const uint8_t* W, int32_t* C, int64_t ldc) {
  const int64_t row_bytes = i2_row_bytes(K);
  for (int64_t m = 0; m < M; ++m) {
    const int8_t* a = A + m * lda;
    int32_t* c = C + m * ldc;
    const int32_t rs = row_sum(a, K);
    // 4 rows per tile measured fastest (8 and 2 are ~20% slower on Zen 5; on Sapphire Rapids 2
    // rows are 10 % and 1 row 50 % slower).
    int64_t n = 0;
    for (; n + 4 <= N; n += 4) gemv_rows<4>(a, K, rs, W + n * row_bytes, row_bytes, c + n);
    for (; n < N; ++n) gemv_rows<1>(a, K, rs, W + n * row_bytes, row_bytes, c + n);
  }
}

void i2t_gemm_ukernel__avx512vnni_4x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                      const uint8_t* W, int32_t* C, int64_t ldc) {
  // Packed rows outside, rows of A inside: a 4-row tile of W (1 KB per 4096 columns) stays in
  // L1 while up to kRows rows of A pass by, so W is read from memory once.
  constexpr int64_t kRows = 64;
  const int64_t row_bytes = i2_row_bytes(K);
  for (int64_t m0 = 0; m0 < M; m0 += kRows) {
    const int64_t mc = min64(kRows, M - m0);
    const int8_t* a[kRows];
    int32_t rs[kRows];
    for (int64_t m = 0; m < mc; ++m) {
      a[m] = A + (m0 + m) * lda;
      rs[m] = row_sum(a[m], K);
    }
    for (int64_t n0 = 0; n0 < N; n0 += kNR) {
      const int64_t nr = min64(kNR, N - n0);
      const uint8_t* w[kNR];
      for (int n = 0; n < kNR; ++n) w[n] = W + (n0 + min64(n, nr - 1)) * row_bytes;
      // The first pass over this tile's rows prefetches the next tile's, line by line.
      const int64_t ahead = m0 == 0 && n0 + kNR < N ? kNR * row_bytes : 0;
      int32_t* c = C + m0 * ldc + n0;
      int64_t m = 0;
      for (; m + 4 <= mc; m += 4)
        store_tile<4>(a + m, rs + m, w, nr, K, m == 0 ? ahead : 0, c + m * ldc, ldc);
      switch (mc - m) {
        case 3:
          store_tile<3>(a + m, rs + m, w, nr, K, m == 0 ? ahead : 0, c + m * ldc, ldc);
          break;
        case 2:
          store_tile<2>(a + m, rs + m, w, nr, K, m == 0 ? ahead : 0, c + m * ldc, ldc);
          break;
        case 1:
          store_tile<1>(a + m, rs + m, w, nr, K, m == 0 ? ahead : 0, c + m * ldc, ldc);
          break;
        default:
          break;
      }
    }
  }
}

void i2t_gemm_ukernel__avx512vnni_16x16c4(int64_t M, int64_t N, int64_t K, const int8_t* A,
                                          int64_t lda, const uint8_t* W, int32_t* C, int64_t ldc) {
  // Per-thread scratch (ukernel_scratch) for the panel, its corrections and 16 rows of weights.
  const int64_t panel_bytes = i2_padded_cols(K) * kPanelCols;
  const int64_t rows_bytes = 16 * i2_padded_cols(K);
  void* scratch = ukernel_scratch(panel_bytes + 4 * kPanelCols + rows_bytes);
  int8_t* panel = static_cast<int8_t*>(scratch);
  int32_t* corr = reinterpret_cast<int32_t*>(panel + panel_bytes);
  int8_t* rows = panel + panel_bytes + 4 * kPanelCols;
  for (int64_t n0 = 0; n0 < N; n0 += kPanelCols) {
    const int64_t nb = min64(kPanelCols, N - n0);
    const int NV = static_cast<int>((nb + 15) / 16);
    decode_panel(W + n0 * i2_row_bytes(K), nb, K, NV, panel, corr, rows);
    int32_t* c = C + n0;
    switch (NV) {  // tiles of at most 24 accumulators
      case 1:
        panel_rows<16, 1>(M, A, lda, K, panel, corr, nb, c, ldc);
        break;
      case 2:
        panel_rows<12, 2>(M, A, lda, K, panel, corr, nb, c, ldc);
        break;
      case 3:
        panel_rows<8, 3>(M, A, lda, K, panel, corr, nb, c, ldc);
        break;
      default:
        panel_rows<6, 4>(M, A, lda, K, panel, corr, nb, c, ldc);
        break;
    }
  }
}

}  // namespace chimera
