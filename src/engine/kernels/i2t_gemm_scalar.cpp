#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm_ukernels.h"

namespace chimera {

void i2t_gemm_ukernel__scalar(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                              const uint8_t* W, int32_t* C, int64_t ldc) {
  const int64_t row_bytes = i2_row_bytes(K);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* a = A + m * lda;
      const uint8_t* w = W + n * row_bytes;
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += int32_t{a[k]} * (i2_code(w, k) - 1);
      C[m * ldc + n] = sum;
    }
}

}  // namespace chimera
