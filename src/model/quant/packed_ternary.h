// Packed storage of a ternary weight tensor: int8 codes in {-1, 0, 1} of shape [rows, cols] plus
// one float scale (the tensor's gamma), in one of three formats:
//   i2       2 bits a weight, SIMD-friendly block interleave        (pack_i2.h)
//   tq1      1.6 bits a weight, five trits a byte                    (pack_tq1.h)
//   entropy  rANS against the tensor's own frequencies, close to its
//            effective bits (SPEC §1)                                (pack_entropy.h)
// Each format file documents its code mapping, order and padding. All three map q to q + 1.
// A conv weight [out, in, kh, kw] is packed as [out, in * kh * kw].
//
// Serialised form (parse_packed / serialize_packed), all integers little-endian:
//   offset  size  field
//        0     4  magic "CTRN"
//        4     1  version, 1
//        5     1  format: 0 i2, 1 tq1, 2 entropy
//        6     2  reserved, 0
//        8     4  rows (u32, >= 1)
//       12     4  cols (u32, >= 1), rows * cols < 2^32
//       16     4  scale (IEEE float32, finite)
//       20    12  freq[3] (u32): entropy: rANS frequencies of q = -1, 0, +1, summing to 2^16;
//                 other formats: 0
//       32     8  payload_bytes (u64): i2 rows * i2_row_bytes(cols), tq1 rows *
//                 tq1_row_bytes(cols), entropy the rANS stream's length (>= 4)
//       40        payload, exactly payload_bytes, nothing after it
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/quant/pack_entropy.h"

namespace chimera {

enum class PackFormat : uint8_t { i2 = 0, tq1 = 1, entropy = 2 };

const char* pack_format_name(PackFormat format);  // "i2", "tq1", "entropy"
// The inverse; an unknown name is an error that lists the three.
PackFormat pack_format_from_name(const std::string& name);

inline constexpr size_t kPackHeaderBytes = 40;
inline constexpr int64_t kMaxPackedWeights = (int64_t{1} << 32) - 1;  // fits the u32 fields

struct PackHeader {
  int64_t rows = 0;
  int64_t cols = 0;
  PackFormat format = PackFormat::i2;
  float scale = 1.0f;
  TernaryFreqs freq{};  // entropy only; all 0 for i2 and tq1
  int64_t payload_bytes = 0;
};

struct PackedTernary {
  PackHeader header;
  std::vector<uint8_t> payload;
};

// codes: i8 tensor [rows, cols] with values in {-1, 0, 1} (quantize_*_i8 gives them); scale:
// finite. A wrong dtype or rank, an empty or too large tensor, or any other value is an error.
PackedTernary pack_ternary(const Tensor& codes, float scale, PackFormat format);

// Bit-exact inverse of pack_ternary: i8 [rows, cols]. An impossible header, a payload whose
// size disagrees with it, or corrupt payload bytes are errors (never a crash).
Tensor unpack_codes(const PackedTernary& packed);
// The weights the codes stand for: f32 [rows, cols], codes * scale.
Tensor unpack_values(const PackedTernary& packed);

// The most weights an entropy payload of `payload_bytes` may decode to: 2^16 plus 2^10 a byte
// (at least 1/128 bit a weight beyond the first 65,536; a layer 99.9 % zeros costs 0.011). rANS
// can code a constant tensor of any size in 4 bytes, and a reader that believed any count would
// decode gigabytes from a few bytes; like a decompressor's ratio limit this caps the work a
// buffer can ask for. pack_ternary refuses (entropy format) what the reader would refuse; i2
// and tq1 store anything.
inline constexpr int64_t max_entropy_weights(int64_t payload_bytes) {
  return (int64_t{1} << 16) + payload_bytes * (int64_t{1} << 10);
}

// Payload bytes of the fixed-size formats; entropy (data-dependent) is an error.
int64_t fixed_payload_bytes(PackFormat format, int64_t rows, int64_t cols);
// Payload bits per weight, header excluded (i2: 2 plus row padding, tq1: 1.6 plus padding).
double bits_per_weight(const PackedTernary& packed);
// Bytes of the serialised form: kPackHeaderBytes + payload.
size_t serialized_bytes(const PackedTernary& packed);

std::string serialize_packed(const PackedTernary& packed);
// Checks the header and the buffer's length against it (truncated or trailing bytes are
// errors); the payload's contents are checked by unpack_codes. `source` names the buffer in
// error messages (a file or tensor name).
PackedTernary parse_packed(const std::string& bytes, const std::string& source);

}  // namespace chimera
