// i2: ternary weights at 2 bits each, four to a byte, in the layout the i2t_gemm kernels read
// (engine/kernels/i2_layout.h, which defines it and holds the kernels' reference packer).
//
// Code: c = q + 1, so -1 -> 0b00, 0 -> 0b01, +1 -> 0b10; 0b11 never occurs. An unsigned code
// times an activation, minus the activation, is the product with q, which is how a u8 x s8
// dot-product instruction uses these codes without a sign fix-up.
//
// Layout of one row of `cols` weights: ceil(cols / 128) blocks of 32 bytes. Block b holds
// weights k = 128 * b + j for j in [0, 128): weight j lies in byte j % 32 of the block, at bits
// 2 * (j / 32) and 2 * (j / 32) + 1. So byte i of a block is
//   c[i] | c[32 + i] << 2 | c[64 + i] << 4 | c[96 + i] << 6,
// and (block_bytes >> 2g) & 0x03, taken over all 32 bytes, gives weights 32g .. 32g + 31 in
// order. The last block of a row is padded with code 0b01 (weight 0). Rows follow each other
// with stride i2_row_bytes(cols). The float scale is not in the payload: it lives in the header
// of the packed tensor (packed_ternary.h), one per tensor.
//
// These functions are the model's packer: block at a time, and strict on unpacking (padding
// must be weight 0, so a packed tensor has exactly one valid byte string). Tests check them
// byte for byte against the kernels' i2_pack_ref.
#pragma once

#include <cstdint>

#include "engine/kernels/i2_layout.h"

namespace chimera {

// codes: rows x cols values in {-1, 0, 1} (row-major, checked by the caller);
// out: rows * i2_row_bytes(cols) bytes, every one written.
void pack_i2(const int8_t* codes, int64_t rows, int64_t cols, uint8_t* out);

// The inverse: payload holds rows * i2_row_bytes(cols) bytes. A code 0b11, or padding that is
// not weight 0, is an error naming the byte.
void unpack_i2(const uint8_t* payload, int64_t rows, int64_t cols, int8_t* codes);

}  // namespace chimera
