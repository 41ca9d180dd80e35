// AVX2 + FMA loops of elementwise_f32.h. Only intrinsics here: an inline library function (such
// as std::fma) compiled with these flags could be the copy the linker keeps for every caller.
#include <immintrin.h>

#include "engine/kernels/elementwise_f32.h"

namespace chimera {

void fma_f32__avx2(int64_t n, const float* x, float a, float b, float* y) {
  const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, vb));
  for (; i < n; ++i)
    y[i] = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x[i]), _mm_set_ss(a), _mm_set_ss(b)));
}

}  // namespace chimera
