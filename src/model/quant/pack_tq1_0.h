// TQ1_0, ggml's 1.69-bit ternary type (GGUF type 34), for llama.cpp files.
//
// A row of `cols` weights (a multiple of 256) is cols / 256 blocks of 54 bytes: qs[48], qh[4],
// then the block's scale as an IEEE half; weight = (trit - 1) * scale with trit = q + 1.
// Five trits share a byte as the base-3 number t = t0*81 + t1*27 + t2*9 + t3*3 + t4 (t0 most
// significant), stored as ceil(t * 256 / 243): then trit n is the top "digit" of the byte times
// 3^n taken modulo 256, read as ((uint8_t)(byte * 3^n) * 3) >> 8, which needs no division.
// Within a block:
//   values   0..159: qs[m] for m < 32 holds values m + 32n, n = 0..4
//   values 160..239: qs[32 + m] for m < 16 holds values 160 + m + 16n, n = 0..4
//   values 240..255: qh[j] for j < 4 holds values 240 + j + 4n, n = 0..3 (a fifth trit of 0)
// Our ternary layers have one scale per tensor (gamma); every block carries it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chimera {

inline constexpr int64_t kTq1Block = 256;
inline constexpr int64_t kTq1BlockBytes = 54;

// codes: rows x cols in {-1, 0, 1}; cols a multiple of 256 (an error otherwise).
std::string pack_tq1_0(const int8_t* codes, int64_t rows, int64_t cols, float scale);

// The inverse: the codes and each block's scale.
void unpack_tq1_0(std::string_view bytes, int64_t rows, int64_t cols, int8_t* codes,
                  std::vector<float>& block_scales);

}  // namespace chimera
