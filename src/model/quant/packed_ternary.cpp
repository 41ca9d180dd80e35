#include "model/quant/packed_ternary.h"
#include "engine/io/little_endian.h"

#include <array>
#include <cmath>
#include <cstring>

#include "model/quant/pack_i2.h"
#include "model/quant/pack_tq1.h"

namespace chimera {

namespace {

constexpr char kMagic[4] = {'C', 'T', 'R', 'N'};
constexpr uint8_t kVersion = 1;

void check_shape_and_scale(int64_t rows, int64_t cols, float scale, const std::string& what) {
  CHIMERA_CHECK(rows >= 1 && cols >= 1 && rows <= kMaxPackedWeights / cols, what, ": shape [", rows,
                ", ", cols, "] must be non-empty with fewer than 2^32 weights");
  CHIMERA_CHECK(std::isfinite(scale), what, ": scale must be finite, got ", scale);
}

// Everything a header must satisfy, for a packed tensor built in memory or parsed from bytes.
void check_header(const PackHeader& h, const std::string& what) {
  CHIMERA_CHECK(
      h.format == PackFormat::i2 || h.format == PackFormat::tq1 || h.format == PackFormat::entropy,
      what, ": unknown format ", int(h.format), " (expected 0 i2, 1 tq1, 2 entropy)");
  check_shape_and_scale(h.rows, h.cols, h.scale, what);
  if (h.format == PackFormat::entropy) {
    check_frequencies(h.freq, what.c_str());
    CHIMERA_CHECK(h.payload_bytes >= 4, what, ": entropy payload of ", h.payload_bytes,
                  " bytes is shorter than the 4-byte rANS state");
    CHIMERA_CHECK(h.rows * h.cols <= max_entropy_weights(h.payload_bytes), what, ": [", h.rows,
                  ", ", h.cols, "] weights from a ", h.payload_bytes,
                  "-byte entropy payload is more than the format allows (",
                  max_entropy_weights(h.payload_bytes), "; see max_entropy_weights)");
  } else {
    CHIMERA_CHECK(h.freq == TernaryFreqs{}, what, ": frequencies must be 0 for format ",
                  pack_format_name(h.format));
    const int64_t expected = fixed_payload_bytes(h.format, h.rows, h.cols);
    CHIMERA_CHECK(h.payload_bytes == expected, what, ": ", pack_format_name(h.format),
                  " payload of [", h.rows, ", ", h.cols, "] must be ", expected,
                  " bytes, header says ", h.payload_bytes);
  }
}

std::array<int64_t, 3> count_codes(const Tensor& codes) {
  std::array<int64_t, 3> counts{};
  const int8_t* q = codes.data<int8_t>();
  for (int64_t i = 0; i < codes.numel(); ++i) {
    CHIMERA_CHECK(q[i] >= -1 && q[i] <= 1, "pack_ternary: code ", i, " is ", int{q[i]},
                  ", expected -1, 0 or 1");
    ++counts[q[i] + 1];
  }
  return counts;
}


}  // namespace

const char* pack_format_name(PackFormat format) {
  switch (format) {
    case PackFormat::i2:
      return "i2";
    case PackFormat::tq1:
      return "tq1";
    case PackFormat::entropy:
      return "entropy";
  }
  return "unknown";
}

PackFormat pack_format_from_name(const std::string& name) {
  for (PackFormat f : {PackFormat::i2, PackFormat::tq1, PackFormat::entropy})
    if (name == pack_format_name(f)) return f;
  CHIMERA_FAIL("unknown pack format '", name, "': expected i2, tq1 or entropy");
}

int64_t fixed_payload_bytes(PackFormat format, int64_t rows, int64_t cols) {
  switch (format) {
    case PackFormat::i2:
      return rows * i2_row_bytes(cols);
    case PackFormat::tq1:
      return rows * tq1_row_bytes(cols);
    default:
      CHIMERA_FAIL("the payload size of format ", pack_format_name(format),
                   " depends on the weights; pack them and read header.payload_bytes");
  }
}

PackedTernary pack_ternary(const Tensor& codes, float scale, PackFormat format) {
  CHIMERA_CHECK(codes.defined() && codes.dtype() == DType::i8, "pack_ternary needs int8 codes ",
                "(quantize_*_i8 gives them), got ",
                codes.defined() ? dtype_name(codes.dtype()) : "an undefined tensor");
  CHIMERA_CHECK(codes.dim() == 2, "pack_ternary needs codes of shape [rows, cols], got ",
                shape_str(codes.shape()), " (reshape a conv weight to [out, in * kh * kw])");
  check_shape_and_scale(codes.size(0), codes.size(1), scale, "pack_ternary");
  const std::array<int64_t, 3> counts = count_codes(codes);
  const int8_t* q = codes.data<int8_t>();
  PackedTernary p;
  PackHeader& h = p.header;
  h.rows = codes.size(0);
  h.cols = codes.size(1);
  h.format = format;
  h.scale = scale;
  switch (format) {
    case PackFormat::i2:
      h.payload_bytes = fixed_payload_bytes(format, h.rows, h.cols);
      p.payload.resize(static_cast<size_t>(h.payload_bytes));
      pack_i2(q, h.rows, h.cols, p.payload.data());
      break;
    case PackFormat::tq1:
      h.payload_bytes = fixed_payload_bytes(format, h.rows, h.cols);
      p.payload.resize(static_cast<size_t>(h.payload_bytes));
      pack_tq1(q, h.rows, h.cols, p.payload.data());
      break;
    case PackFormat::entropy:
      h.freq = quantize_frequencies(counts);
      p.payload = rans_encode(q, codes.numel(), h.freq);
      h.payload_bytes = static_cast<int64_t>(p.payload.size());
      CHIMERA_CHECK(codes.numel() <= max_entropy_weights(h.payload_bytes), "pack_ternary: ",
                    codes.numel(), " codes compress to ", h.payload_bytes,
                    " bytes, below the entropy format's limit of 1/128 bit a weight: store "
                    "this tensor as i2 or tq1");
      break;
    default:
      CHIMERA_FAIL("pack_ternary: unknown format ", int(format));
  }
  return p;
}

Tensor unpack_codes(const PackedTernary& packed) {
  const PackHeader& h = packed.header;
  check_header(h, "packed ternary");
  CHIMERA_CHECK(packed.payload.size() == static_cast<size_t>(h.payload_bytes),
                "packed ternary: payload has ", packed.payload.size(), " bytes, header says ",
                h.payload_bytes);
  Tensor codes({h.rows, h.cols}, DType::i8);
  int8_t* q = codes.data<int8_t>();
  const uint8_t* bytes = packed.payload.data();
  switch (h.format) {
    case PackFormat::i2:
      unpack_i2(bytes, h.rows, h.cols, q);
      break;
    case PackFormat::tq1:
      unpack_tq1(bytes, h.rows, h.cols, q);
      break;
    case PackFormat::entropy:
      rans_decode(bytes, packed.payload.size(), codes.numel(), h.freq, q);
      break;
  }
  return codes;
}

Tensor unpack_values(const PackedTernary& packed) {
  const Tensor codes = unpack_codes(packed);
  Tensor values(codes.shape(), DType::f32);
  const int8_t* q = codes.data<int8_t>();
  float* w = values.f32();
  for (int64_t i = 0; i < codes.numel(); ++i) w[i] = static_cast<float>(q[i]) * packed.header.scale;
  return values;
}

double bits_per_weight(const PackedTernary& packed) {
  const PackHeader& h = packed.header;
  return 8.0 * static_cast<double>(h.payload_bytes) / static_cast<double>(h.rows * h.cols);
}

size_t serialized_bytes(const PackedTernary& packed) {
  return kPackHeaderBytes + packed.payload.size();
}

std::string serialize_packed(const PackedTernary& packed) {
  const PackHeader& h = packed.header;
  check_header(h, "serialize_packed");
  CHIMERA_CHECK(packed.payload.size() == static_cast<size_t>(h.payload_bytes),
                "serialize_packed: payload has ", packed.payload.size(), " bytes, header says ",
                h.payload_bytes);
  std::string out(kMagic, sizeof(kMagic));
  out.reserve(serialized_bytes(packed));
  put_le(out, kVersion, 1);
  put_le(out, static_cast<uint8_t>(h.format), 1);
  put_le(out, 0, 2);
  put_le(out, static_cast<uint64_t>(h.rows), 4);
  put_le(out, static_cast<uint64_t>(h.cols), 4);
  uint32_t scale_bits;
  std::memcpy(&scale_bits, &h.scale, 4);
  put_le(out, scale_bits, 4);
  for (uint32_t f : h.freq) put_le(out, f, 4);
  put_le(out, static_cast<uint64_t>(h.payload_bytes), 8);
  out.append(reinterpret_cast<const char*>(packed.payload.data()), packed.payload.size());
  return out;
}

PackedTernary parse_packed(const std::string& bytes, const std::string& source) {
  const std::string what = "packed ternary '" + source + "'";
  CHIMERA_CHECK(bytes.size() >= kPackHeaderBytes, what, ": ", bytes.size(),
                " bytes, shorter than the ", kPackHeaderBytes, "-byte header (truncated?)");
  CHIMERA_CHECK(std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0, what,
                ": does not start with the magic \"CTRN\"");
  CHIMERA_CHECK(get_le(bytes, 4, 1) == kVersion, what, ": version ", get_le(bytes, 4, 1),
                ", this build reads version ", int{kVersion});
  CHIMERA_CHECK(get_le(bytes, 6, 2) == 0, what, ": reserved header bytes must be 0");
  PackedTernary p;
  PackHeader& h = p.header;
  const uint64_t format = get_le(bytes, 5, 1);
  CHIMERA_CHECK(format <= 2, what, ": unknown format ", format,
                " (expected 0 i2, 1 tq1, 2 entropy)");
  h.format = static_cast<PackFormat>(format);
  h.rows = static_cast<int64_t>(get_le(bytes, 8, 4));
  h.cols = static_cast<int64_t>(get_le(bytes, 12, 4));
  const auto scale_bits = static_cast<uint32_t>(get_le(bytes, 16, 4));
  std::memcpy(&h.scale, &scale_bits, 4);
  for (int s = 0; s < 3; ++s) h.freq[s] = static_cast<uint32_t>(get_le(bytes, 20 + 4 * s, 4));
  const uint64_t payload_bytes = get_le(bytes, 32, 8);
  CHIMERA_CHECK(payload_bytes <= static_cast<uint64_t>(kMaxPackedWeights) * 2 + 4, what,
                ": header claims an impossible payload of ", payload_bytes, " bytes");
  h.payload_bytes = static_cast<int64_t>(payload_bytes);
  check_header(h, what);
  const size_t have = bytes.size() - kPackHeaderBytes;
  CHIMERA_CHECK(have >= payload_bytes, what, ": truncated: header says ", payload_bytes,
                " payload bytes, the buffer holds ", have);
  CHIMERA_CHECK(have == payload_bytes, what, ": ", have - payload_bytes,
                " bytes after the end of the payload");
  p.payload.assign(bytes.begin() + kPackHeaderBytes, bytes.end());
  return p;
}

}  // namespace chimera
