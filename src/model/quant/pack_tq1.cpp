#include "model/quant/pack_tq1.h"

#include "engine/error.h"

namespace chimera {

const std::array<std::array<int8_t, 5>, kTq1ByteValues>& tq1_decode_table() {
  static const auto table = [] {
    std::array<std::array<int8_t, 5>, kTq1ByteValues> t{};
    for (int v = 0; v < kTq1ByteValues; ++v)
      for (int i = 0, rest = v; i < 5; ++i, rest /= 3) t[v][i] = static_cast<int8_t>(rest % 3 - 1);
    return t;
  }();
  return table;
}

void pack_tq1(const int8_t* codes, int64_t rows, int64_t cols, uint8_t* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* row = codes + r * cols;
    for (int64_t first = 0; first < cols; first += kTq1WeightsPerByte) {
      int value = 0;
      // Horner from the last trit down, so weight `first` ends up times 3^0; padding is trit 1.
      for (int64_t k = first + kTq1WeightsPerByte - 1; k >= first; --k)
        value = value * 3 + (k < cols ? row[k] + 1 : 1);
      *out++ = static_cast<uint8_t>(value);
    }
  }
}

void unpack_tq1(const uint8_t* payload, int64_t rows, int64_t cols, int8_t* codes) {
  const auto& table = tq1_decode_table();
  const int64_t row_bytes = tq1_row_bytes(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < row_bytes; ++i) {
      const int64_t offset = r * row_bytes + i;
      const uint8_t byte = payload[offset];
      CHIMERA_CHECK(byte < kTq1ByteValues, "tq1 payload is corrupt: byte ", offset, " is ",
                    int{byte}, ", above the largest code 242");
      for (int64_t j = 0; j < kTq1WeightsPerByte; ++j) {
        const int64_t k = i * kTq1WeightsPerByte + j;
        if (k < cols)
          codes[r * cols + k] = table[byte][j];
        else
          CHIMERA_CHECK(table[byte][j] == 0, "tq1 payload is corrupt: padding weight ", k,
                        " of row ", r, " is not 0 (padding must hold trit 1)");
      }
    }
  }
}

}  // namespace chimera
