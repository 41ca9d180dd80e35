// Per-ISA micro-kernels behind i2t_gemm: same contract as i2t_gemm (W points at the block's
// first packed row, row stride i2_row_bytes(K)), single-threaded and without argument checks
// (the driver in i2t_gemm.cpp does both). Each lives in a file compiled with its own ISA flags
// and must only be called when isa_supported() says so.
//
// The GEMV and tile kernels multiply the unsigned code u = w + 1 in {0, 1, 2} with the signed
// activation (maddubs, dpbusd take u8 x s8) and subtract the row sum of A once:
//   sum_k (w + 1) * a = sum_k w * a + sum_k a.
// Decoding is then only shifts and masks of the packed bytes. Activations past K read as zero
// (masked loads or a zero-padded copy of the last block), so padding codes never matter.
// The panel kernels (large M) swap the roles: s8 weights, activations shifted to u8, and a
// per-column correction instead of per-row sums (see i2t_gemm_ukernel__avx512vnni_16x16c4).
#pragma once

#include <cstdint>

namespace chimera {

// Scratch memory for the panel kernels: at least `bytes` bytes, 64-byte aligned, owned by the
// calling thread and valid until its next call. It grows and is kept, because the large-M
// kernels need megabytes per call and a fresh allocation that large is mapped, faulted in and
// zeroed by the OS every time (4 % of a 512-token prompt). Aborts if memory runs out (kernels
// throw nothing).
void* ukernel_scratch(int64_t bytes);

using I2tGemmUkernel = void (*)(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const uint8_t* W, int32_t* C, int64_t ldc);

// The oracle: a plain triple loop over i2_code().
void i2t_gemm_ukernel__scalar(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                              const uint8_t* W, int32_t* C, int64_t ldc);

// AVX2 GEMV (any M, used for M = 1), one packed row at a time: per 128 weights one load, one
// shift and four masks give the codes, two of the groups scaled by 4 (kept in their own int16
// sums); activations are memory operands of vpmaddubsw; the packed rows are prefetched ahead
// for weights that come from DRAM. The last partial block of A is read from a zero-padded copy.
void i2t_gemv_ukernel__avx2_1x1(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const uint8_t* W, int32_t* C, int64_t ldc);
// AVX2, small M: 8 rows of A x 1 packed row per tile; each block is decoded once (3 shifts,
// 4 masks) and used by the 8 rows; vpmaddubsw into int16 sums widened every 16 blocks.
void i2t_gemm_ukernel__avx2_8x1(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                const uint8_t* W, int32_t* C, int64_t ldc);
// AVX2, large M: like the AVX-512 panel kernel below (weights decoded once per block into s8
// panels, 4 broadcast activations shifted to u8), with vpmaddubsw into int16 sums widened every
// 64 steps, the activations shifted to u8 once per call. Tiles of 6 rows x 16 columns.
void i2t_gemm_ukernel__avx2_6x16c4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                   const uint8_t* W, int32_t* C, int64_t ldc);

// AVX-512 VNNI GEMV (M = 1), 4 packed rows at a time: a block's 32 bytes are broadcast to both
// halves of a zmm and masked with 0x03|0x0C (weights 0..63) and 0x30|0xC0 (64..127): codes
// scaled by 1, 4, 16, 64 per half, one vpand per 64 products; two accumulators per row, each
// half shifted back (exactly) before the final sum. Masked loads for the K tail.
void i2t_gemv_ukernel__avx512vnni_1x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                      const uint8_t* W, int32_t* C, int64_t ldc);
// AVX-512 VNNI, small M: 4 rows of A x 4 packed rows per tile; each block is decoded once per
// tile (3 ops for 128 codes, scaled by 1 | 4 per half) and used by all 4 rows of A.
void i2t_gemm_ukernel__avx512vnni_4x4(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda,
                                      const uint8_t* W, int32_t* C, int64_t ldc);
// AVX-512 VNNI, large M: the block's weights are decoded once into a panel of s8 weights in
// vpdpbusd order (4 consecutive k of 16 columns per 64 bytes); then each row of A is multiplied
// by broadcasting 4 of its bytes, shifted to u8 (a + 128), against the panel: outer products,
// no horizontal sums, K only padded to a multiple of 4, and the shift is undone by a per-column
// constant (128 * sum_k w), so no row sums of A. Tiles of 16 rows x 16 columns (12 x 32, 8 x 48,
// 6 x 64 for wider blocks).
void i2t_gemm_ukernel__avx512vnni_16x16c4(int64_t M, int64_t N, int64_t K, const int8_t* A,
                                          int64_t lda, const uint8_t* W, int32_t* C, int64_t ldc);

}  // namespace chimera
