// AVX2 kernel: u = w + 1 (unsigned) times a (signed) with vpmaddubsw, then minus the row sum of A.
// Only intrinsics and file-local helpers here: an inline function from a shared header compiled
// with -mavx2 could be picked by the linker for the baseline build too.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "engine/kernels/simd_avx2.h"
#include "engine/kernels/i8t_gemm_ukernels.h"

namespace chimera {
namespace {

constexpr int64_t kMR = 2;     // rows of A per tile
constexpr int64_t kNR = 4;     // rows of W (output columns) per tile
constexpr int64_t kStep = 32;  // int8 lanes per vector
// A vpmaddubsw lane is u1*a1 + u2*a2 with |.| <= 2*2*127 = 508, so int16 partial sums hold
// 64 steps (64 * 508 = 32512 <= 32767) before they are widened to int32.
constexpr int64_t kWidenSteps = 64;



int32_t row_sum(const int8_t* a, int64_t K) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i acc = _mm256_setzero_si256();
  int64_t k = 0;
  for (; k + kStep <= K; k += kStep) {
    acc =
        _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, load(a + k)), ones16));
  }
  int32_t sum = hsum(acc);
  for (; k < K; ++k) sum += a[k];
  return sum;
}

// One step of 32 int8: acc16[m][n] += maddubs(w[n] + 1, a[m]), operands read by the loaders.
template <int MR, class LoadA, class LoadW>
inline void step(const int8_t* const* a, const int8_t* const* w, LoadA load_a, LoadW load_w,
                 __m256i* acc16) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  __m256i av[MR];
  for (int m = 0; m < MR; ++m) av[m] = load_a(a[m]);
  for (int n = 0; n < kNR; ++n) {
    const __m256i u = _mm256_add_epi8(load_w(w[n]), ones8);
    for (int m = 0; m < MR; ++m)
      acc16[m * kNR + n] = _mm256_add_epi16(acc16[m * kNR + n], _mm256_maddubs_epi16(u, av[m]));
  }
}

// kTailMask + r: 32 - r zero bytes, then r bytes of all ones.
alignas(64) constexpr int8_t kTailMask[2 * kStep] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

// Sums of (w[n] + 1) * a[m] over K, lane m * 4 + n (lanes of rows >= MR are zero).
template <int MR>
__m256i tile(const int8_t* const* a, const int8_t* const* w, int64_t K) {
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i acc[kMR * kNR], acc16[kMR * kNR];
  for (int i = 0; i < kMR * kNR; ++i) acc[i] = _mm256_setzero_si256();
  const int64_t k_full = K - K % kStep;
  for (int64_t k = 0; k < k_full;) {
    for (int i = 0; i < MR * kNR; ++i) acc16[i] = _mm256_setzero_si256();
    for (const int64_t end = min64(k_full, k + kWidenSteps * kStep); k < end; k += kStep)
      step<MR>(
          a, w, [k](const int8_t* p) { return load(p + k); },
          [k](const int8_t* p) { return load(p + k); }, acc16);
    for (int i = 0; i < MR * kNR; ++i)
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(acc16[i], ones16));
  }
  if (k_full < K) {
    for (int i = 0; i < MR * kNR; ++i) acc16[i] = _mm256_setzero_si256();
    if (K >= kStep) {
      // Re-read the last 32 bytes of each row; lanes already counted are zeroed in A, which
      // makes their (w + 1) * a vanish.
      const int64_t k_last = K - kStep;
      const __m256i keep = load(kTailMask + (K - k_full));
      step<MR>(
          a, w,
          [k_last, keep](const int8_t* p) { return _mm256_and_si256(load(p + k_last), keep); },
          [k_last](const int8_t* p) { return load(p + k_last); }, acc16);
    } else {  // rows shorter than a vector: zero-padded copies
      alignas(32) int8_t ta[kMR][kStep] = {}, tw[kNR][kStep] = {};
      const int8_t *pa[kMR], *pw[kNR];
      for (int m = 0; m < MR; ++m) pa[m] = static_cast<int8_t*>(std::memcpy(ta[m], a[m], K));
      for (int n = 0; n < kNR; ++n) pw[n] = static_cast<int8_t*>(std::memcpy(tw[n], w[n], K));
      step<MR>(pa, pw, load, load, acc16);
    }
    for (int i = 0; i < MR * kNR; ++i)
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(acc16[i], ones16));
  }
  // Horizontal sums of the 8 accumulators into the 8 lanes of one vector.
  const __m256i u0 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
  const __m256i u1 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(acc[4], acc[5]), _mm256_hadd_epi32(acc[6], acc[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                          _mm256_permute2x128_si256(u0, u1, 0x31));
}

// Rows [m0, m0 + MR) of C, all N columns.
template <int MR>
void row_block(int64_t m0, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* W,
               int64_t ldw, int32_t* C, int64_t ldc) {
  const int8_t* a[kMR];
  alignas(32) int32_t rs[kMR * kNR] = {};
  for (int m = 0; m < MR; ++m) {
    a[m] = A + (m0 + m) * lda;
    const int32_t s = row_sum(a[m], K);
    for (int n = 0; n < kNR; ++n) rs[m * kNR + n] = s;
  }
  const __m256i row_sums = _mm256_load_si256(reinterpret_cast<const __m256i*>(rs));
  for (int64_t n0 = 0; n0 < N; n0 += kNR) {
    const int64_t nr = min64(kNR, N - n0);
    const int8_t* w[kNR];
    for (int n = 0; n < kNR; ++n) w[n] = W + (n0 + min64(n, nr - 1)) * ldw;  // repeat the last
    alignas(32) int32_t out[kMR * kNR];
    _mm256_store_si256(reinterpret_cast<__m256i*>(out),
                       _mm256_sub_epi32(tile<MR>(a, w, K), row_sums));
    for (int m = 0; m < MR; ++m)
      for (int64_t n = 0; n < nr; ++n) C[(m0 + m) * ldc + n0 + n] = out[m * kNR + n];
  }
}

}  // namespace

void i8t_gemm_ukernel__avx2_2x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc) {
  int64_t m0 = 0;
  for (; m0 + kMR <= M; m0 += kMR) row_block<2>(m0, N, K, A, lda, W, ldw, C, ldc);
  if (m0 < M) row_block<1>(m0, N, K, A, lda, W, ldw, C, ldc);
}

}  // namespace chimera
