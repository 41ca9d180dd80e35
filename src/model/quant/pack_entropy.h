// entropy: ternary weights coded with rANS against the tensor's own symbol frequencies, so the
// size follows the measured effective bits (SPEC §1) instead of a fixed 2 or 1.6 bits.
//
// Symbols: s = q + 1 (-1 -> 0, 0 -> 1, +1 -> 2, the same code as i2 and tq1), coded in
// row-major order over the whole tensor, no padding. The model is static: per-tensor counts
// quantised to frequencies f[3] that sum to 2^16, each symbol that occurs getting at least 1
// and one that does not getting 0. The frequencies live in the header of the packed tensor
// (packed_ternary.h), with the float scale; the payload is the rANS byte stream only.
//
// Coder: one 32-bit state x, kept in [2^23, 2^31), renormalised a byte at a time (the byte-wise
// rANS of ryg_rans). Symbol s occupies slots [c_s, c_s + f_s) of [0, 2^16), c_s = f_0 + ... +
// f_(s-1). The encoder starts at x = 2^23, runs over the symbols from last to first, and ends by
// writing x; the stream is stored in the order the decoder reads it:
//   bytes 0..3: the final encoder state, little-endian;
//   then the renormalisation bytes, each shifted into x from below when x drops under 2^23.
// Decoding symbol by symbol: slot = x & 0xFFFF, s = the symbol whose slots hold it,
// x = f_s * (x >> 16) + slot - c_s, then refill. A correct stream ends with every byte read and
// x back at 2^23; anything else is reported as corrupt. A tensor with one symbol only (all zero,
// say) gets f = 2^16 for it: the state never moves and the payload is the 4 state bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chimera {

inline constexpr int kRansScaleBits = 16;
inline constexpr uint32_t kRansTotal = 1u << kRansScaleBits;

using TernaryFreqs = std::array<uint32_t, 3>;  // indexed by q + 1

// counts[q + 1]: occurrences of each weight value, not all zero, totalling under 2^47. Rounds
// the shares to frequencies summing to kRansTotal, settling the last slots by the coded size
// sum_s counts[s] * -log2(f_s / kRansTotal).
TernaryFreqs quantize_frequencies(const std::array<int64_t, 3>& counts);

// Frequencies that do not sum to kRansTotal are an error (`what` names the source).
void check_frequencies(const TernaryFreqs& freq, const char* what);

// codes: n values in {-1, 0, 1}; each value that occurs needs a non-zero frequency (error).
std::vector<uint8_t> rans_encode(const int8_t* codes, int64_t n, const TernaryFreqs& freq);

// The inverse; a stream that is truncated, too long or inconsistent is an error.
void rans_decode(const uint8_t* payload, size_t size, int64_t n, const TernaryFreqs& freq,
                 int8_t* codes);

}  // namespace chimera
