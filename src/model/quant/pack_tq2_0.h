// TQ2_0, ggml's 2.06-bit ternary type (GGUF type 35), for llama.cpp files.
//
// A row of `cols` weights (a multiple of 256) is cols / 256 blocks of 66 bytes: 64 bytes of
// 2-bit codes, then the block's scale as an IEEE half (little-endian); weight = (code - 1) *
// scale. The 64 code bytes are two 128-weight halves in exactly our i2 layout (pack_i2.h):
// weight j of a half in byte j % 32 of the half, at bits 2 * (j / 32), code q + 1. So a TQ2_0
// row is the i2 row with a scale after every 64 bytes. Our ternary layers have one scale per
// tensor (gamma); every block carries it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chimera {

inline constexpr int64_t kTq2Block = 256;
inline constexpr int64_t kTq2BlockBytes = 66;

// codes: rows x cols in {-1, 0, 1}; cols a multiple of 256 (an error otherwise).
std::string pack_tq2_0(const int8_t* codes, int64_t rows, int64_t cols, float scale);

// The inverse: the codes, and each block's scale (rows * cols / 256, in order). A code 0b11 is
// an error.
void unpack_tq2_0(std::string_view bytes, int64_t rows, int64_t cols, int8_t* codes,
                  std::vector<float>& block_scales);

}  // namespace chimera
