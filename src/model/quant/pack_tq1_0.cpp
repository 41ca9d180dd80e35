#include "model/quant/pack_tq1_0.h"

#include <cstring>

#include "engine/error.h"
#include "engine/half.h"

namespace chimera {

namespace {

// Where each of a block's 256 values lives: byte index (0..51) and trit position (0..4).
struct Slot {
  uint8_t byte, trit;
};

std::vector<Slot> block_slots() {
  std::vector<Slot> s(256);
  for (int m = 0; m < 32; ++m)
    for (int n = 0; n < 5; ++n) s[m + 32 * n] = {static_cast<uint8_t>(m), static_cast<uint8_t>(n)};
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 5; ++n)
      s[160 + m + 16 * n] = {static_cast<uint8_t>(32 + m), static_cast<uint8_t>(n)};
  for (int j = 0; j < 4; ++j)
    for (int n = 0; n < 4; ++n)
      s[240 + j + 4 * n] = {static_cast<uint8_t>(48 + j), static_cast<uint8_t>(n)};
  return s;
}

const std::vector<Slot>& slots() {
  static const std::vector<Slot> s = block_slots();
  return s;
}

constexpr int kPow3[5] = {81, 27, 9, 3, 1};  // trit n's weight in the base-3 number

uint8_t trit_of(uint8_t byte, int n) {
  static constexpr uint8_t kMul[5] = {1, 3, 9, 27, 81};
  const auto shifted = static_cast<uint8_t>(byte * kMul[n]);  // modulo 256 on purpose
  return static_cast<uint8_t>((static_cast<uint16_t>(shifted) * 3) >> 8);
}

void check_cols(int64_t cols) {
  CHIMERA_CHECK(cols > 0 && cols % kTq1Block == 0, "TQ1_0 packs rows of a multiple of ",
                kTq1Block, " weights; this tensor's rows have ", cols,
                " (llama.cpp cannot hold it as TQ1_0: choose widths that are multiples of 256)");
}

}  // namespace

std::string pack_tq1_0(const int8_t* codes, int64_t rows, int64_t cols, float scale) {
  check_cols(cols);
  const int64_t blocks = rows * cols / kTq1Block;
  std::string out(static_cast<size_t>(blocks * kTq1BlockBytes), '\0');
  const uint16_t h = float_to_half(scale);
  for (int64_t b = 0; b < blocks; ++b) {
    int t[52] = {};
    const int8_t* c = codes + b * kTq1Block;
    for (int i = 0; i < 256; ++i) {
      CHIMERA_CHECK(c[i] >= -1 && c[i] <= 1, "TQ1_0: code ", int{c[i]}, " is not ternary");
      t[slots()[i].byte] += (c[i] + 1) * kPow3[slots()[i].trit];
    }
    char* o = out.data() + b * kTq1BlockBytes;
    for (int k = 0; k < 52; ++k) o[k] = static_cast<char>((t[k] * 256 + 242) / 243);
    std::memcpy(o + 52, &h, 2);
  }
  return out;
}

void unpack_tq1_0(std::string_view bytes, int64_t rows, int64_t cols, int8_t* codes,
                  std::vector<float>& block_scales) {
  check_cols(cols);
  const int64_t blocks = rows * cols / kTq1Block;
  CHIMERA_CHECK(static_cast<int64_t>(bytes.size()) == blocks * kTq1BlockBytes, "TQ1_0: ",
                bytes.size(), " bytes for ", rows, " x ", cols, " weights");
  block_scales.clear();
  for (int64_t b = 0; b < blocks; ++b) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + b * kTq1BlockBytes);
    for (int i = 0; i < 256; ++i)
      codes[b * kTq1Block + i] =
          static_cast<int8_t>(trit_of(p[slots()[i].byte], slots()[i].trit)) - 1;
    uint16_t h;
    std::memcpy(&h, p + 52, 2);
    block_scales.push_back(half_to_float(h));
  }
}

}  // namespace chimera
