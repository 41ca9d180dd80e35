#include "model/quant/pack_tq2_0.h"

#include <cstring>

#include "engine/error.h"
#include "engine/half.h"
#include "model/quant/pack_i2.h"

namespace chimera {

std::string pack_tq2_0(const int8_t* codes, int64_t rows, int64_t cols, float scale) {
  CHIMERA_CHECK(cols > 0 && cols % kTq2Block == 0, "TQ2_0 packs rows of a multiple of ",
                kTq2Block, " weights; this tensor's rows have ", cols,
                " (llama.cpp cannot hold it as TQ2_0: choose widths that are multiples of 256)");
  const int64_t row_i2 = i2_row_bytes(cols), blocks = cols / kTq2Block;
  std::vector<uint8_t> i2(static_cast<size_t>(row_i2));
  const uint16_t h = float_to_half(scale);
  std::string out(static_cast<size_t>(rows * blocks * kTq2BlockBytes), '\0');
  char* o = out.data();
  for (int64_t r = 0; r < rows; ++r) {
    pack_i2(codes + r * cols, 1, cols, i2.data());
    for (int64_t b = 0; b < blocks; ++b, o += kTq2BlockBytes) {
      std::memcpy(o, i2.data() + b * 64, 64);
      std::memcpy(o + 64, &h, 2);
    }
  }
  return out;
}

void unpack_tq2_0(std::string_view bytes, int64_t rows, int64_t cols, int8_t* codes,
                  std::vector<float>& block_scales) {
  CHIMERA_CHECK(cols > 0 && cols % kTq2Block == 0, "TQ2_0 rows hold a multiple of ", kTq2Block,
                " weights, not ", cols);
  const int64_t blocks = cols / kTq2Block;
  CHIMERA_CHECK(static_cast<int64_t>(bytes.size()) == rows * blocks * kTq2BlockBytes,
                "TQ2_0: ", bytes.size(), " bytes for ", rows, " x ", cols, " weights");
  std::vector<uint8_t> i2(static_cast<size_t>(i2_row_bytes(cols)));
  block_scales.clear();
  const char* p = bytes.data();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < blocks; ++b, p += kTq2BlockBytes) {
      std::memcpy(i2.data() + b * 64, p, 64);
      uint16_t h;
      std::memcpy(&h, p + 64, 2);
      block_scales.push_back(half_to_float(h));
    }
    unpack_i2(i2.data(), 1, cols, codes + r * cols);
  }
}

}  // namespace chimera
