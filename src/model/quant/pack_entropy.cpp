#include "model/quant/pack_entropy.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace chimera {

namespace {

constexpr uint32_t kRansLow = 1u << 23;  // the state lives in [kRansLow, kRansLow << 8)

std::array<uint32_t, 3> starts_of(const TernaryFreqs& freq) {
  return {0, freq[0], freq[0] + freq[1]};
}

}  // namespace

TernaryFreqs quantize_frequencies(const std::array<int64_t, 3>& counts) {
  int64_t total = 0;
  for (int64_t c : counts) {
    CHIMERA_CHECK(c >= 0, "symbol counts must be non-negative, got ", c);
    total += c;
  }
  CHIMERA_CHECK(total > 0, "symbol counts must not all be zero");
  CHIMERA_CHECK(total < (int64_t{1} << 47), "symbol counts must total under 2^47, got ", total);
  TernaryFreqs f{};
  int64_t sum = 0;
  for (int s = 0; s < 3; ++s) {
    if (counts[s] > 0) {
      f[s] = static_cast<uint32_t>(std::max<int64_t>(1, counts[s] * kRansTotal / total));
    }
    sum += f[s];
  }
  // Fix the sum one slot at a time, giving a slot to the symbol where it saves the most coded
  // bits (or taking one where it costs the least). Only a few slots move: the floors lose less
  // than one slot per symbol, the raises to 1 add at most two.
  const auto bits_gained = [&](int s, int delta) {
    return static_cast<double>(counts[s]) * std::log2(double(f[s] + delta) / f[s]);
  };
  while (sum < kRansTotal) {
    int best = -1;
    for (int s = 0; s < 3; ++s)
      if (f[s] > 0 && (best < 0 || bits_gained(s, 1) > bits_gained(best, 1))) best = s;
    ++f[best];
    ++sum;
  }
  while (sum > kRansTotal) {
    int best = -1;
    for (int s = 0; s < 3; ++s)
      if (f[s] > 1 && (best < 0 || bits_gained(s, -1) > bits_gained(best, -1))) best = s;
    --f[best];
    --sum;
  }
  return f;
}

void check_frequencies(const TernaryFreqs& freq, const char* what) {
  uint64_t sum = 0;
  for (uint32_t f : freq) sum += f;
  CHIMERA_CHECK(sum == kRansTotal, what, ": rANS frequencies ", freq[0], " + ", freq[1], " + ",
                freq[2], " must sum to ", kRansTotal);
}

std::vector<uint8_t> rans_encode(const int8_t* codes, int64_t n, const TernaryFreqs& freq) {
  check_frequencies(freq, "rans_encode");
  const auto start = starts_of(freq);
  // Renormalisation bytes come out in the reverse of the order the decoder wants them.
  std::vector<uint8_t> reversed;
  reversed.reserve(static_cast<size_t>(n / 4 + 16));
  uint32_t x = kRansLow;
  for (int64_t i = n - 1; i >= 0; --i) {
    const int s = codes[i] + 1;
    const uint32_t f = freq[s];
    CHIMERA_CHECK(f > 0, "rans_encode: weight ", i, " is ", int{codes[i]},
                  ", a value whose frequency is 0");
    // Coding s from a state below x_max keeps the result below kRansLow << 8.
    const uint32_t x_max = ((kRansLow >> kRansScaleBits) << 8) * f;
    while (x >= x_max) {
      reversed.push_back(static_cast<uint8_t>(x & 0xFF));
      x >>= 8;
    }
    x = ((x / f) << kRansScaleBits) + x % f + start[s];
  }
  for (int shift = 24; shift >= 0; shift -= 8) reversed.push_back(static_cast<uint8_t>(x >> shift));
  return {reversed.rbegin(), reversed.rend()};
}

void rans_decode(const uint8_t* payload, size_t size, int64_t n, const TernaryFreqs& freq,
                 int8_t* codes) {
  check_frequencies(freq, "entropy payload");
  CHIMERA_CHECK(size >= 4, "entropy payload is corrupt: ", size,
                " bytes, shorter than the 4-byte rANS state");
  uint32_t x = uint32_t{payload[0]} | uint32_t{payload[1]} << 8 | uint32_t{payload[2]} << 16 |
               uint32_t{payload[3]} << 24;
  CHIMERA_CHECK(x >= kRansLow && x < (kRansLow << 8), "entropy payload is corrupt: initial rANS ",
                "state ", x, " is outside [2^23, 2^31)");
  size_t pos = 4;
  const auto start = starts_of(freq);
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t slot = x & (kRansTotal - 1);
    // Compares instead of branches: the symbols of real weights are close to random.
    const int s = int{slot >= start[1]} + int{slot >= start[2]};
    codes[i] = static_cast<int8_t>(s - 1);
    x = freq[s] * (x >> kRansScaleBits) + slot - start[s];
    while (x < kRansLow) {
      CHIMERA_CHECK(pos < size, "entropy payload is corrupt or truncated: the stream ends at ",
                    size, " bytes after decoding ", i + 1, " of ", n, " weights");
      x = x << 8 | payload[pos++];
    }
  }
  CHIMERA_CHECK(pos == size && x == kRansLow, "entropy payload is corrupt: after ", n,
                " weights the rANS stream has ", size - pos, " unread bytes and state ", x,
                " (expected 0 and ", kRansLow, ")");
}

}  // namespace chimera
