// Integer GEMM/GEMV on packed ternary weights: int8 activations times 2-bit packed weights
// (layout in i2_layout.h), int32 result. The weights are decoded in registers as they are
// read, so a GEMV moves 2 bits per weight. Products are exact: every ISA path gives the same
// integers as i8t_gemm on the unpacked weights.
#pragma once

#include <cstdint>

#include "engine/kernels/int_epilogue.h"
#include "engine/kernels/isa.h"

namespace chimera {

// C[m][n] = sum_{k < K} A[m][k] * W[n][k]. A: int8 in [-127, 127] (row stride lda >= K);
// W: packed, i2_packed_bytes(N, K) bytes (row stride i2_row_bytes(K)); C: int32 (row stride
// ldc >= N), overwritten. Activation values outside [-127, 127] give undefined results on the
// SIMD paths. K <= 2^22 (exact int32 sums). Paths: M = 1 (GEMV), small M (register-decoded
// tiles), large M (weights decoded once per block into an L1/L2 panel). Multithreaded; each C
// element is written by exactly one thread, so results never depend on the thread count.
void i2t_gemm(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const uint8_t* W,
              int32_t* C, int64_t ldc);

// The same product with a linear layer's float epilogue (int_epilogue.h; columns are its
// channels, a residual is indexed like Y): Y[m][n] = epilogue(C[m][n]), bit for bit
// i2t_gemm followed by scale_acc_f32, without the int32 result ever reaching memory.
void i2t_gemm_f32(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const uint8_t* W,
                  const AccScale& epilogue, float* Y, int64_t ldy);

// Several products of one A (a layer's input read by several projections), in one parallel
// region: each is i2t_gemm_f32(M, N, K, A, lda, W, epilogue, Y, ldy). At batch 1 every region
// entered and left costs the other threads a wake-up and a wait; a transformer layer's q, k, v
// and its gate and up projections each share one.
struct I2tFloatProduct {
  int64_t N;
  const uint8_t* W;
  AccScale epilogue;
  float* Y;
  int64_t ldy;
};
constexpr int64_t kI2tMaxSharedProducts = 8;  // count: 1 to this
void i2t_gemm_f32_shared(int64_t M, int64_t K, const int8_t* A, int64_t lda,
                         const I2tFloatProduct* products, int64_t count);

// The same with an explicit ISA (for tests and benchmarks); throws if this CPU lacks it.
void i2t_gemm_isa(Isa isa, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                  const uint8_t* W, int32_t* C, int64_t ldc);
void i2t_gemm_f32_isa(Isa isa, int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                      const uint8_t* W, const AccScale& epilogue, float* Y, int64_t ldy);

}  // namespace chimera
