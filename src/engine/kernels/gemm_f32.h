// Float GEMM on OpenBLAS: C = alpha * op(A) * op(B) + beta * C, row-major.
// op(A) is [M, K], op(B) is [K, N]; lda/ldb/ldc are the row strides of the stored matrices.
#pragma once

#include <cstdint>

namespace chimera {

void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc);

}  // namespace chimera
