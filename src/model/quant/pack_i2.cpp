#include "model/quant/pack_i2.h"

#include <algorithm>

#include "engine/error.h"

namespace chimera {

namespace {

constexpr uint8_t kZeroCode = 1;  // q = 0, also the padding

}  // namespace

void pack_i2(const int8_t* codes, int64_t rows, int64_t cols, uint8_t* out) {
  const int64_t blocks = i2_row_bytes(cols) / kI2BlockBytes;
  uint8_t block[kI2BlockCols];
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* row = codes + r * cols;
    for (int64_t b = 0; b < blocks; ++b, out += kI2BlockBytes) {
      const int64_t first = b * kI2BlockCols;
      const int64_t n = std::min(kI2BlockCols, cols - first);
      for (int64_t j = 0; j < n; ++j) block[j] = static_cast<uint8_t>(row[first + j] + 1);
      std::fill(block + n, block + kI2BlockCols, kZeroCode);
      for (int64_t i = 0; i < kI2BlockBytes; ++i)
        out[i] = static_cast<uint8_t>(block[i] | block[32 + i] << 2 | block[64 + i] << 4 |
                                      block[96 + i] << 6);
    }
  }
}

void unpack_i2(const uint8_t* payload, int64_t rows, int64_t cols, int8_t* codes) {
  const int64_t row_bytes = i2_row_bytes(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = payload + r * row_bytes;
    for (int64_t i = 0; i < row_bytes; ++i) {
      // A byte holding 0b11 in any of its four fields: bit pairs where both bits are set.
      CHIMERA_CHECK((row[i] & (row[i] >> 1) & 0x55) == 0, "i2 payload is corrupt: byte ",
                    r * row_bytes + i, " (0x", std::hex, int{row[i]}, std::dec,
                    ") holds the unused code 0b11");
    }
    for (int64_t k = 0; k < cols; ++k)
      codes[r * cols + k] = static_cast<int8_t>(i2_code(row, k) - 1);
    for (int64_t k = cols; k < row_bytes * 4; ++k)
      CHIMERA_CHECK(i2_code(row, k) == kZeroCode, "i2 payload is corrupt: padding weight ", k,
                    " of row ", r, " is not 0 (padding must hold code 0b01)");
  }
}

}  // namespace chimera
