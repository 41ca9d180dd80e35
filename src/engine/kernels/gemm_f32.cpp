#include "engine/kernels/gemm_f32.h"

#include <cblas.h>

#include "engine/threads.h"

namespace chimera {

void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc) {
  if (M == 0 || N == 0) return;
  num_threads();  // make sure OpenBLAS has been given the engine's thread count
  const auto i = [](int64_t v) { return static_cast<blasint>(v); };
  // A single row or column is a matrix-vector product: sgemm would pack both operands first,
  // which for one row (a decoded token's attention scores and output logits) costs more than
  // the product (measured: sgemm's copy routines were 11 % of a token's time, the GEMVs 44 %).
  // The sums then run in sgemv's order; a given shape always takes the same path, so results
  // stay deterministic.
  if (M == 1) {  // C[0, :] = alpha * op(A)[0, :] op(B) + beta * C[0, :]
    const int64_t inc_a = trans_a ? lda : 1;
    if (trans_b)  // op(B) = B^T, B stored [N, K]
      cblas_sgemv(CblasRowMajor, CblasNoTrans, i(N), i(K), alpha, B, i(ldb), A, i(inc_a), beta,
                  C, 1);
    else  // B stored [K, N]
      cblas_sgemv(CblasRowMajor, CblasTrans, i(K), i(N), alpha, B, i(ldb), A, i(inc_a), beta, C, 1);
    return;
  }
  if (N == 1) {  // C[:, 0] = alpha * op(A) op(B)[:, 0] + beta * C[:, 0]
    const int64_t inc_b = trans_b ? 1 : ldb;
    if (trans_a)  // op(A) = A^T, A stored [K, M]
      cblas_sgemv(CblasRowMajor, CblasTrans, i(K), i(M), alpha, A, i(lda), B, i(inc_b), beta, C,
                  i(ldc));
    else
      cblas_sgemv(CblasRowMajor, CblasNoTrans, i(M), i(K), alpha, A, i(lda), B, i(inc_b), beta, C,
                  i(ldc));
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, i(M), i(N), i(K), alpha, A, i(lda), B, i(ldb),
              beta, C, i(ldc));
}

}  // namespace chimera
