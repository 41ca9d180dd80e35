// AVX-512 VNNI kernel: vpdpbusd of u = w + 1 (unsigned) and a (signed) straight into int32,
// then minus the row sum of A. Only intrinsics and file-local helpers here: an inline function
// from a shared header compiled with AVX-512 flags could be picked by the linker for the
// baseline build too.
// GCC 12 reports the deliberate self-initialisation in _mm512_undefined_epi32() (used by the
// shuffle and unpack intrinsics) as uninitialised once inlined; the warning is about the header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

#include "engine/kernels/i8t_gemm_ukernels.h"

namespace chimera {
namespace {

constexpr int64_t kMR = 4;     // rows of A per tile
constexpr int64_t kNR = 4;     // rows of W (output columns) per tile
constexpr int64_t kStep = 64;  // int8 lanes per vector

int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}

// Loads bytes [k, K) of p, at most 64; the rest of the vector is zero and never read.
__m512i load_tail(const int8_t* p, int64_t k, int64_t K) {
  return _mm512_maskz_loadu_epi8(static_cast<__mmask64>((uint64_t{1} << (K - k)) - 1), p + k);
}

int32_t row_sum(const int8_t* a, int64_t K) {
  const __m512i ones8 = _mm512_set1_epi8(1);
  __m512i acc = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + kStep <= K; k += kStep)
    acc = _mm512_dpbusd_epi32(acc, ones8, _mm512_loadu_si512(a + k));
  if (k < K) acc = _mm512_dpbusd_epi32(acc, ones8, load_tail(a, k, K));
  return _mm512_reduce_add_epi32(acc);
}

// acc[m][n] += dpbusd(w[n] + 1, a[m]) for one vector of K, loaded by `load`.
template <int MR, class Load>
inline void step(const int8_t* const* a, const int8_t* const* w, Load load, __m512i (*acc)[kNR]) {
  const __m512i ones8 = _mm512_set1_epi8(1);
  __m512i av[MR];
  for (int m = 0; m < MR; ++m) av[m] = load(a[m]);
  for (int n = 0; n < kNR; ++n) {
    const __m512i u = _mm512_add_epi8(load(w[n]), ones8);
    for (int m = 0; m < MR; ++m) acc[m][n] = _mm512_dpbusd_epi32(acc[m][n], u, av[m]);
  }
}

// Sums of (w[n] + 1) * a[m] over K in lane m * 4 + n (rows >= MR are zero).
template <int MR>
__m512i tile(const int8_t* const* a, const int8_t* const* w, int64_t K) {
  __m512i acc[kMR][kNR];
  for (int m = 0; m < kMR; ++m)
    for (int n = 0; n < kNR; ++n) acc[m][n] = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + kStep <= K; k += kStep)
    step<MR>(
        a, w, [k](const int8_t* p) { return _mm512_loadu_si512(p + k); }, acc);
  if (k < K)
    step<MR>(
        a, w, [k, K](const int8_t* p) { return load_tail(p, k, K); }, acc);

  // Transposing reduction of 16 accumulators into the 16 lanes of one vector. Fed in the order
  // v[4n + m] = acc[m][n], the 128-bit chunk m of the result holds row m, lane n column n.
  __m512i x[8], y[4];
  for (int i = 0; i < 8; ++i) {
    const __m512i p = acc[(2 * i) % 4][(2 * i) / 4], q = acc[(2 * i + 1) % 4][(2 * i + 1) / 4];
    // chunks: p0+p2, p1+p3, q0+q2, q1+q3
    x[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(p, q, 0x44), _mm512_shuffle_i64x2(p, q, 0xEE));
  }
  for (int i = 0; i < 4; ++i)  // chunk j: the 4 partial lanes of v[4i + j]
    y[i] = _mm512_add_epi32(_mm512_shuffle_i64x2(x[2 * i], x[2 * i + 1], 0x88),
                            _mm512_shuffle_i64x2(x[2 * i], x[2 * i + 1], 0xDD));
  const __m512i p =
      _mm512_add_epi32(_mm512_unpacklo_epi32(y[0], y[1]), _mm512_unpackhi_epi32(y[0], y[1]));
  const __m512i q =
      _mm512_add_epi32(_mm512_unpacklo_epi32(y[2], y[3]), _mm512_unpackhi_epi32(y[2], y[3]));
  // chunk j, lane i: total of v[4i + j]
  return _mm512_add_epi32(_mm512_unpacklo_epi64(p, q), _mm512_unpackhi_epi64(p, q));
}

// Rows [m0, m0 + MR) of C, all N columns.
template <int MR>
void row_block(int64_t m0, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* W,
               int64_t ldw, int32_t* C, int64_t ldc) {
  const int8_t* a[kMR];
  alignas(64) int32_t rs[kMR * kNR] = {};
  for (int m = 0; m < MR; ++m) {
    a[m] = A + (m0 + m) * lda;
    const int32_t s = row_sum(a[m], K);
    for (int n = 0; n < kNR; ++n) rs[m * kNR + n] = s;
  }
  const __m512i row_sums = _mm512_load_si512(rs);
  for (int64_t n0 = 0; n0 < N; n0 += kNR) {
    const int64_t nr = min64(kNR, N - n0);
    const int8_t* w[kNR];
    for (int n = 0; n < kNR; ++n) w[n] = W + (n0 + min64(n, nr - 1)) * ldw;  // repeat the last
    alignas(64) int32_t out[kMR * kNR];
    _mm512_store_si512(out, _mm512_sub_epi32(tile<MR>(a, w, K), row_sums));
    const __mmask8 cols = static_cast<__mmask8>((1u << nr) - 1);
    for (int m = 0; m < MR; ++m)
      _mm_mask_storeu_epi32(C + (m0 + m) * ldc + n0, cols,
                            _mm_load_si128(reinterpret_cast<const __m128i*>(out + m * kNR)));
  }
}

}  // namespace

void i8t_gemm_ukernel__avx512vnni_4x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                      const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc) {
  int64_t m0 = 0;
  for (; m0 + kMR <= M; m0 += kMR) row_block<4>(m0, N, K, A, lda, W, ldw, C, ldc);
  switch (M - m0) {
    case 3:
      row_block<3>(m0, N, K, A, lda, W, ldw, C, ldc);
      break;
    case 2:
      row_block<2>(m0, N, K, A, lda, W, ldw, C, ldc);
      break;
    case 1:
      row_block<1>(m0, N, K, A, lda, W, ldw, C, ldc);
      break;
    default:
      break;
  }
}

}  // namespace chimera
