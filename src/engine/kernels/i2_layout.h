// The packed 2-bit ternary weight layout ("i2") read by the i2t_gemm kernels.
//
// A weight matrix W [N rows, K cols] with entries in {-1, 0, 1} is stored row after row; each
// row takes i2_row_bytes(K) bytes, K rounded up to a multiple of 128 (i2_padded_cols). A row
// is a sequence of blocks of 128 weights in 32 bytes. Weight j (0 <= j < 128) of a block is
//   the code w + 1 in {0, 1, 2}, stored in byte (j % 32) of the block at bits 2 * (j / 32).
// So byte i of a block holds weights i, i + 32, i + 64, i + 96 in its bit pairs 0-1, 2-3, 4-5,
// 6-7 (lowest first); code 3 never occurs. Padding columns (k >= K) hold code 1 (w = 0); the
// kernels never use them (they treat activations beyond K as zero), so any code there gives the
// same product. There is no scale in the packed data: the caller keeps the per-tensor scale.
//
// Why this order: one 32-byte load yields the codes of 128 consecutive weights as four groups
// of 32 consecutive weights, one shift-and-mask apart (AVX2: 32-byte vectors; AVX-512: the same
// 32 bytes broadcast to both halves, each half masked for a different bit pair), so activations
// are read in their natural order. It is the bit order of bitnet.cpp's I2_S blocks.
#pragma once

#include <cstdint>

namespace chimera {

constexpr int64_t kI2BlockCols = 128;  // weights per block
constexpr int64_t kI2BlockBytes = 32;  // bytes per block

// The helpers are always inlined because the per-ISA kernel files use them: an out-of-line copy
// compiled there with AVX-512 flags could be the one the linker keeps for every caller.
#define CHIMERA_I2_INLINE [[gnu::always_inline]] inline

// K rounded up to a multiple of kI2BlockCols.
CHIMERA_I2_INLINE constexpr int64_t i2_padded_cols(int64_t K) {
  return (K + kI2BlockCols - 1) / kI2BlockCols * kI2BlockCols;
}
// Bytes of one packed row (the row stride of packed data).
CHIMERA_I2_INLINE constexpr int64_t i2_row_bytes(int64_t K) {
  return i2_padded_cols(K) / 4;
}
CHIMERA_I2_INLINE constexpr int64_t i2_packed_bytes(int64_t N, int64_t K) {
  return N * i2_row_bytes(K);
}

// The code (w + 1, in 0..3) of column k of a packed row.
CHIMERA_I2_INLINE int i2_code(const uint8_t* row, int64_t k) {
  const int64_t j = k % kI2BlockCols;
  return (row[k / kI2BlockCols * kI2BlockBytes + j % 32] >> (2 * (j / 32))) & 3;
}

#undef CHIMERA_I2_INLINE

// The reference packer (the test oracle; model code has its own packer that must agree).
// W: [N, K] int8 in {-1, 0, 1}, row stride ldw >= K; packed: i2_packed_bytes(N, K) bytes,
// fully overwritten (padding columns get code 1). Throws on a value outside {-1, 0, 1}.
void i2_pack_ref(int64_t N, int64_t K, const int8_t* W, int64_t ldw, uint8_t* packed);

// The inverse: W [N, K] (row stride ldw >= K) from packed data. Throws on code 3 in a column
// k < K (not produced by a packer: corrupt data).
void i2_unpack_ref(int64_t N, int64_t K, const uint8_t* packed, int8_t* W, int64_t ldw);

}  // namespace chimera
