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

}  // namespace chimera
