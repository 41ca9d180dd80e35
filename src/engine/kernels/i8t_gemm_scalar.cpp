#include "engine/kernels/i8t_gemm_ukernels.h"

namespace chimera {

void i8t_gemm_ukernel__scalar(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                              const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* a = A + m * lda;
      const int8_t* w = W + n * ldw;
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += int32_t{a[k]} * int32_t{w[k]};
      C[m * ldc + n] = sum;
    }
}

}  // namespace chimera
