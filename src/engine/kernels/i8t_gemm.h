// Integer GEMM of the execution layer: int8 activations times ternary weights, int32 result.
// Because x_q and q are small integers the product is exact, so every ISA path (and the float
// computation of the same integers) gives bit-identical results.
#pragma once

#include <cstdint>

#include "engine/kernels/isa.h"

namespace chimera {

// C[m][n] = sum_k A[m][k] * W[n][k]. A: int8 activations in [-127, 127] (row stride lda),
// W: int8 ternary codes in {-1, 0, 1} (row stride ldw), C: int32 (row stride ldc), overwritten.
// Values outside those ranges give undefined results on the SIMD paths. K <= 2^24.
// Multithreaded over output blocks; each C element is written by exactly one thread.
void i8t_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* W,
              int64_t ldw, int32_t* C, int64_t ldc);

// The same with an explicit ISA (for tests and benchmarks); throws if this CPU lacks it.
void i8t_gemm_isa(Isa isa, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                  const int8_t* W, int64_t ldw, int32_t* C, int64_t ldc);

}  // namespace chimera
