// Per-ISA micro-kernels behind i8t_gemm: same contract as i8t_gemm, but single-threaded and
// without argument checks (the driver in i8t_gemm.cpp does both). Each one lives in a file
// compiled with its own ISA flags and must only be called when isa_supported() says so.
//
// The SIMD kernels multiply with the unsigned operand u = w + 1 in {0, 1, 2}, which the
// u8 x s8 instructions (maddubs, dpbusd) accept, and subtract the row sum of A afterwards:
//   sum_k (w + 1) * a = sum_k w * a + sum_k a.
// This costs one instruction per product instead of a sign fix-up per product.
#pragma once

#include <cstdint>

namespace chimera {

using I8tGemmUkernel = void (*)(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc);

// The oracle: a plain triple loop.
void i8t_gemm_ukernel__scalar(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                              const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc);
// 2 rows x 4 columns per tile, 32 int8 per step, int16 partial sums widened every 64 steps;
// the K tail re-reads the last 32 bytes with the already-counted lanes of A zeroed.
void i8t_gemm_ukernel__avx2_2x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc);
// 4 rows x 4 columns per tile, 64 int8 per step (vpdpbusd), masked loads for the K tail.
void i8t_gemm_ukernel__avx512vnni_4x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                      const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc);

}  // namespace chimera
