// AVX2 + FMA loops of elementwise_f32.h. Only intrinsics here: an inline library function (such
// as std::fma) compiled with these flags could be the copy the linker keeps for every caller.
#include <immintrin.h>

#include "engine/kernels/elementwise_f32.h"

namespace chimera {

// Tails run the same vector operation on a copy padded to 8 lanes, so every element takes the
// vector path's exact operation.
namespace {

template <class Op>
void tail8(int64_t left, const float* a, const float* b, float* y, Op op) {
  alignas(32) float ta[8] = {}, tb[8] = {}, ty[8];
  for (int64_t k = 0; k < left; ++k) ta[k] = a[k], tb[k] = b ? b[k] : 0.0f;
  _mm256_store_ps(ty, op(_mm256_load_ps(ta), _mm256_load_ps(tb)));
  for (int64_t k = 0; k < left; ++k) y[k] = ty[k];
}

template <class Op>
void binary(int64_t n, const float* a, const float* b, float* y, Op op) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, op(_mm256_loadu_ps(a + i), b ? _mm256_loadu_ps(b + i) : __m256()));
  if (i < n) tail8(n - i, a + i, b ? b + i : nullptr, y + i, op);
}

}  // namespace

void add_f32__avx2(int64_t n, const float* a, const float* b, float* y) {
  binary(n, a, b, y, [](__m256 x, __m256 z) { return _mm256_add_ps(x, z); });
}

// x > 0 is false for NaN and -0, which give +0 as in the scalar loop.
void relu_f32__avx2(int64_t n, const float* x, float* y) {
  binary(n, x, nullptr, y, [](__m256 v, __m256) {
    return _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ), v);
  });
}

void relu_backward_f32__avx2(int64_t n, const float* y, const float* g, float* dx) {
  binary(n, y, g, dx, [](__m256 v, __m256 grad) {
    return _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ), grad);
  });
}

void i8_to_f32__avx2(int64_t n, const int8_t* x, float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + i));
    _mm256_storeu_ps(y + i, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)));
  }
  for (; i < n; ++i) y[i] = static_cast<float>(x[i]);  // int8 -> float is exact either way
}

void fma_f32__avx2(int64_t n, const float* x, float a, float b, float* y) {
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, vb));
  for (; i < n; ++i)
    y[i] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x[i]), _mm_set_ss(a), _mm_set_ss(b)));
}

// exp_f32__scalar's steps on 8 lanes; the tail runs them on a zero-padded copy.
namespace {
// Inlined: a call per 8 lanes reloads every constant.
__attribute__((always_inline)) inline __m256 exp8(__m256 x) {
  using namespace exp_f32_constants;
  const __m256 v = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(kExpLo)), _mm256_set1_ps(kExpHi));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-kLn2Hi), v);
  r = _mm256_fmadd_ps(k, _mm256_set1_ps(-kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpP[0]);
  for (int j = 1; j < 6; ++j) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP[j]));
  const __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i ki = _mm256_cvtps_epi32(k);  // exact: k is an integer
  // k / 2 rounded towards zero, as C++'s int division.
  const __m256i k1 = _mm256_srai_epi32(_mm256_add_epi32(ki, _mm256_srli_epi32(ki, 31)), 1);
  const __m256i k2 = _mm256_sub_epi32(ki, k1), bias = _mm256_set1_epi32(127);
  __m256 y = _mm256_mul_ps(
      _mm256_mul_ps(e, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23))),
      _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23)));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, _mm256_set1_ps(kExpHi), _CMP_GT_OQ));
  y = _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(kExpLo), _CMP_LT_OQ), y);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
}  // namespace

void exp_f32__avx2(int64_t n, const float* x, float* y) {
  binary(n, x, nullptr, y, [](__m256 v, __m256) { return exp8(v); });
}

// softmax_f32__scalar in three passes instead of five: the subtraction, exp and the double
// sums in one. Its 32 lanes are four vectors (ymm, ymm + 8, ...; each double sum vector holds 4),
// so no step waits on the one before; groups of 8 go to the first vector, the rest to lane 0.
void softmax_f32__avx2(int64_t n, int64_t width, float* x) {
  __m256 m8[4];
  for (auto& v : m8) v = _mm256_set1_ps(x[0]);
  int64_t j = 0;
  for (; j + 32 <= n; j += 32)
    for (int v = 0; v < 4; ++v)
      m8[v] = _mm256_max_ps(m8[v], _mm256_loadu_ps(x + j + 8 * v));  // m > x ? m : x
  for (; j + 8 <= n; j += 8) m8[0] = _mm256_max_ps(m8[0], _mm256_loadu_ps(x + j));
  if (j < n) {  // single elements go to lane 0
    float m0 = _mm256_cvtss_f32(m8[0]);
    for (; j < n; ++j) m0 = m0 > x[j] ? m0 : x[j];
    m8[0] = _mm256_blend_ps(m8[0], _mm256_set1_ps(m0), 1);
  }
  // The lanes' tree (softmax_f32__scalar), lane l with l + 16, l + 8, ...: vmaxps(a, b) is
  // a > b ? a : b, the scalar step.
  m8[0] = _mm256_max_ps(_mm256_max_ps(m8[0], m8[2]), _mm256_max_ps(m8[1], m8[3]));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8[0]), _mm256_extractf128_ps(m8[0], 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  const float max = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));

  const __m256 mv = _mm256_set1_ps(max);
  __m256d s4[8];  // lanes 4i .. 4i + 3
  for (auto& v : s4) v = _mm256_setzero_pd();
  auto exp_and_add = [&](int64_t at, int v) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + at), mv));
    _mm256_storeu_ps(x + at, e);
    s4[2 * v] = _mm256_add_pd(s4[2 * v], _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    s4[2 * v + 1] = _mm256_add_pd(s4[2 * v + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  };
  for (j = 0; j + 32 <= n; j += 32)
    for (int v = 0; v < 4; ++v) exp_and_add(j + 8 * v, v);
  for (; j + 8 <= n; j += 8) exp_and_add(j, 0);
  if (j < n) {
    for (int64_t t = j; t < n; ++t) x[t] -= max;
    tail8(n - j, x + j, nullptr, x + j, [](__m256 v, __m256) { return exp8(v); });
    double s0 = _mm256_cvtsd_f64(s4[0]);
    for (; j < n; ++j) s0 += x[j];
    s4[0] = _mm256_blend_pd(s4[0], _mm256_set1_pd(s0), 1);
  }
  // The same tree as the maximum (a + b is b + a exactly).
  for (int v = 0; v < 4; ++v) s4[v] = _mm256_add_pd(s4[v], s4[v + 4]);
  s4[0] = _mm256_add_pd(_mm256_add_pd(s4[0], s4[2]), _mm256_add_pd(s4[1], s4[3]));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4[0]), _mm256_extractf128_pd(s4[0], 1));
  const double sum = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  binary(n, x, nullptr, x, [inv](__m256 v, __m256) { return _mm256_mul_ps(v, inv); });
  for (j = n; j < width; ++j) x[j] = 0.0f;
}

}  // namespace chimera
