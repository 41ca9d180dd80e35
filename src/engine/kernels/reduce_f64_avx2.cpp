// AVX2 loops of reduce_f64.h: lanes 0-3 of the fixed order in one vector, 4-7 in another.
// Only intrinsics and file-local code here (see elementwise_f32_avx2.cpp).
#include <immintrin.h>

#include "engine/kernels/reduce_f64.h"

namespace chimera {
namespace {

// ((0+1)+(2+3))+((4+5)+(6+7)) of the eight lanes.
double combine(__m256d lo, __m256d hi) {
  alignas(32) double l[8];
  _mm256_store_pd(l, lo);
  _mm256_store_pd(l + 4, hi);
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

// Eight floats as doubles: elements 0-3 and 4-7.
__m256d low4(__m256 v) {
  return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
}
__m256d high4(__m256 v) {
  return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
}

}  // namespace

double sum_f64__avx2(int64_t n, const float* x) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    lo = _mm256_add_pd(lo, low4(v));
    hi = _mm256_add_pd(hi, high4(v));
  }
  double s = combine(lo, hi);
  for (; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

// The products of two floats are exact in double, so multiplying and adding rounds once, as the
// scalar loop does.
double sum_sq_f64__avx2(int64_t n, const float* x) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256d l = low4(v), h = high4(v);
    lo = _mm256_add_pd(lo, _mm256_mul_pd(l, l));
    hi = _mm256_add_pd(hi, _mm256_mul_pd(h, h));
  }
  double s = combine(lo, hi);
  for (; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
  return s;
}

double sum_sq_dev_f64__avx2(int64_t n, const float* x, float m) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
    const __m256 sq = _mm256_mul_ps(d, d);
    lo = _mm256_add_pd(lo, low4(sq));
    hi = _mm256_add_pd(hi, high4(sq));
  }
  double s = combine(lo, hi);
  for (; i < n; ++i) {
    const float d = x[i] - m;
    s += static_cast<double>(d * d);
  }
  return s;
}

void sum_and_dot_dev_f64__avx2(int64_t n, const float* g, const float* x, float m, double* sum_g,
                               double* sum_g_dev) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256d s_lo = _mm256_setzero_pd(), s_hi = _mm256_setzero_pd();
  __m256d d_lo = _mm256_setzero_pd(), d_hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 vg = _mm256_loadu_ps(g + i);
    const __m256 p = _mm256_mul_ps(vg, _mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    s_lo = _mm256_add_pd(s_lo, low4(vg));
    s_hi = _mm256_add_pd(s_hi, high4(vg));
    d_lo = _mm256_add_pd(d_lo, low4(p));
    d_hi = _mm256_add_pd(d_hi, high4(p));
  }
  double s = combine(s_lo, s_hi), d = combine(d_lo, d_hi);
  for (; i < n; ++i) {
    s += static_cast<double>(g[i]);
    d += static_cast<double>(g[i] * (x[i] - m));
  }
  *sum_g = s;
  *sum_g_dev = d;
}

}  // namespace chimera
