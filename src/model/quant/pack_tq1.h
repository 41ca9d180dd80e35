// tq1: ternary weights at 1.6 bits each, five trits to a byte (3^5 = 243 <= 256).
//
// Trit: t = q + 1, so -1 -> 0, 0 -> 1, +1 -> 2 (the same code as i2). Byte i of a row holds
// weights 5i .. 5i + 4 as value = t0 + 3 t1 + 9 t2 + 27 t3 + 81 t4 (t0 is weight 5i), so a
// byte is in [0, 242]; 243 .. 255 never occur (a decoder reports them as corrupt). A decoder
// looks the byte up in a 243-entry table of five codes (tq1_decode_table) instead of dividing.
//
// Layout: each row takes tq1_row_bytes(cols) = ceil(cols / 5) bytes; the last byte of a row is
// padded with trit 1 (weight 0). Rows follow each other; row r starts at byte
// r * tq1_row_bytes(cols). The float scale lives in the header of the packed tensor
// (packed_ternary.h), not in the payload.
#pragma once

#include <array>
#include <cstdint>

namespace chimera {

inline constexpr int64_t kTq1WeightsPerByte = 5;
inline constexpr int kTq1ByteValues = 243;

inline constexpr int64_t tq1_row_bytes(int64_t cols) {
  return (cols + kTq1WeightsPerByte - 1) / kTq1WeightsPerByte;
}

// Entry v: the five weights (in {-1, 0, 1}, weight 5i first) of a byte of value v.
const std::array<std::array<int8_t, 5>, kTq1ByteValues>& tq1_decode_table();

// codes: rows x cols values in {-1, 0, 1} (row-major, checked by the caller);
// out: rows * tq1_row_bytes(cols) bytes, every one written.
void pack_tq1(const int8_t* codes, int64_t rows, int64_t cols, uint8_t* out);

// The inverse: payload holds rows * tq1_row_bytes(cols) bytes. A byte above 242, or padding
// that is not weight 0, is an error naming the byte.
void unpack_tq1(const uint8_t* payload, int64_t rows, int64_t cols, int8_t* codes);

}  // namespace chimera
