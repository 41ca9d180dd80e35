// Packed ternary storage (i2, tq1, entropy): bit-exact round trips, the documented byte layouts,
// sizes in bits per weight, and errors on corrupt input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/kernels/i2_layout.h"
#include "engine/rng.h"
#include "golden.h"
#include "model/quant/pack_entropy.h"
#include "model/quant/pack_i2.h"
#include "model/quant/pack_tq1.h"
#include "model/quant/packed_ternary.h"
#include "model/quant/ternary_stats.h"

namespace chimera {
namespace {

constexpr PackFormat kFormats[] = {PackFormat::i2, PackFormat::tq1, PackFormat::entropy};

// Runs fn, expecting a chimera::Error whose message contains `fragment`.
template <class Fn>
void expect_error(Fn fn, const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "no error, expected one mentioning '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// Codes with the given share of zeros and the rest split evenly between +1 and -1.
Tensor random_codes(int64_t rows, int64_t cols, double zero_ratio, uint64_t seed) {
  Rng rng(seed);
  Tensor codes({rows, cols}, DType::i8);
  int8_t* q = codes.data<int8_t>();
  for (int64_t i = 0; i < codes.numel(); ++i) {
    const double u = rng.uniform();
    q[i] = u < zero_ratio ? 0 : (u < zero_ratio + (1 - zero_ratio) / 2 ? 1 : -1);
  }
  return codes;
}

Tensor codes_from(int64_t rows, int64_t cols, const std::vector<int8_t>& values) {
  Tensor codes({rows, cols}, DType::i8);
  std::memcpy(codes.raw(), values.data(), values.size());
  return codes;
}

// pack -> unpack, and pack -> serialise -> parse -> unpack, both bit-exact; serialising the
// parsed tensor gives the same bytes again.
void expect_round_trip(const Tensor& codes, PackFormat format) {
  const float scale = 0.0371f;
  const PackedTernary packed = pack_ternary(codes, scale, format);
  EXPECT_TRUE(test::all_equal(unpack_codes(packed), codes));
  const std::string bytes = serialize_packed(packed);
  EXPECT_EQ(bytes.size(), serialized_bytes(packed));
  const PackedTernary parsed = parse_packed(bytes, "round trip");
  EXPECT_EQ(parsed.header.scale, scale);
  EXPECT_EQ(parsed.header.rows, codes.size(0));
  EXPECT_EQ(parsed.header.cols, codes.size(1));
  EXPECT_TRUE(test::all_equal(unpack_codes(parsed), codes));
  EXPECT_EQ(serialize_packed(parsed), bytes);
}

// ---- round trips ----

TEST(PackedTernary, RoundTripsEveryFormatShapeAndSparsity) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {1, 1}, {1, 7}, {3, 5}, {2, 127}, {5, 128}, {4, 129}, {17, 129}, {9, 257}, {64, 576}};
  const double zero_ratios[] = {0.0, 0.0791, 1.0 / 3, 0.5, 0.63038, 0.9, 0.99, 1.0};
  uint64_t seed = 1;
  for (PackFormat format : kFormats)
    for (const auto& [rows, cols] : shapes)
      for (double z : zero_ratios) {
        SCOPED_TRACE(std::string(pack_format_name(format)) + " [" + std::to_string(rows) + ", " +
                     std::to_string(cols) + "] zero ratio " + std::to_string(z));
        expect_round_trip(random_codes(rows, cols, z, seed++), format);
      }
}

TEST(PackedTernary, RoundTripsSingleAndTwoSymbolTensors) {
  for (PackFormat format : kFormats)
    for (int8_t a : {-1, 0, 1})
      for (int8_t b : {-1, 0, 1}) {
        SCOPED_TRACE(std::string(pack_format_name(format)) + " " + std::to_string(a) + "/" +
                     std::to_string(b));
        // b only at the first and last positions: the rarest symbol at the stream's two ends.
        Tensor codes({13, 37}, DType::i8);
        codes.fill(a);
        codes.data<int8_t>()[0] = b;
        codes.data<int8_t>()[codes.numel() - 1] = b;
        expect_round_trip(codes, format);
        expect_round_trip(codes_from(1, 1, {a}), format);
        expect_round_trip(codes_from(1, 2, {a, b}), format);
      }
}

TEST(PackedTernary, RoundTripsALargeTensor) {
  const Tensor codes = random_codes(1024, 4096, 0.63038, 99);
  for (PackFormat format : kFormats) {
    SCOPED_TRACE(pack_format_name(format));
    expect_round_trip(codes, format);
  }
}

TEST(PackedTernary, UnpackValuesAreCodesTimesScale) {
  const PackedTernary p =
      pack_ternary(codes_from(2, 3, {-1, 0, 1, 1, 1, -1}), 0.25f, PackFormat::tq1);
  EXPECT_TRUE(test::all_equal(
      unpack_values(p), Tensor::from_vector({2, 3}, {-0.25f, 0, 0.25f, 0.25f, 0.25f, -0.25f})));
}

// ---- layouts ----

TEST(PackI2, MatchesTheKernelReferencePackerByteForByte) {
  uint64_t seed = 50;
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {3, 5}, {2, 128}, {17, 129}, {64, 576}, {8, 1000}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
    const Tensor codes = random_codes(rows, cols, 0.4, seed++);
    const PackedTernary p = pack_ternary(codes, 1.0f, PackFormat::i2);
    std::vector<uint8_t> expected(static_cast<size_t>(i2_packed_bytes(rows, cols)));
    i2_pack_ref(rows, cols, codes.data<int8_t>(), cols, expected.data());
    EXPECT_EQ(p.payload, expected);
  }
}

TEST(PackI2, WeightJOfABlockSitsInByteJMod32AtBits2TimesJDiv32) {
  Tensor codes({1, 130}, DType::i8);  // two blocks, the second holding 2 weights and padding
  codes.data<int8_t>()[37] = 1;       // byte 5, bits 2-3: code 0b10
  codes.data<int8_t>()[96] = -1;      // byte 0, bits 6-7: code 0b00
  codes.data<int8_t>()[129] = 1;      // second block, byte 1, bits 0-1: code 0b10
  const PackedTernary p = pack_ternary(codes, 1.0f, PackFormat::i2);
  ASSERT_EQ(p.payload.size(), 64u);
  for (size_t i = 0; i < 64; ++i) {
    const uint8_t expected = i == 5 ? 0x59 : i == 0 ? 0x15 : i == 33 ? 0x56 : 0x55;
    EXPECT_EQ(p.payload[i], expected) << "byte " << i;
  }
}

TEST(PackTq1, BytesAreBase3WithTheFirstWeightLowest) {
  // Trits t = q + 1: [0, 1, 2, 2, 0] -> 0 + 3 + 18 + 54 + 0 = 75.
  EXPECT_EQ(pack_ternary(codes_from(1, 5, {-1, 0, 1, 1, -1}), 1.0f, PackFormat::tq1).payload,
            std::vector<uint8_t>{75});
  // Seven weights: 242 for five +1s, then [0, 0] padded with trits 1 -> 0 + 0 + 9 + 27 + 81.
  EXPECT_EQ(pack_ternary(codes_from(1, 7, {1, 1, 1, 1, 1, -1, -1}), 1.0f, PackFormat::tq1).payload,
            (std::vector<uint8_t>{242, 117}));
  // Rows are padded separately: [2, 3] takes one byte a row.
  EXPECT_EQ(pack_ternary(codes_from(2, 3, {-1, -1, -1, 0, 0, 0}), 1.0f, PackFormat::tq1).payload,
            (std::vector<uint8_t>{0 + 27 + 81, 1 + 3 + 9 + 27 + 81}));
}

TEST(PackTq1, DecodeTableHas243EntriesThatInvertTheEncoding) {
  const auto& table = tq1_decode_table();
  ASSERT_EQ(table.size(), 243u);
  for (int v = 0; v < 243; ++v) {
    std::vector<int8_t> five(table[v].begin(), table[v].end());
    EXPECT_EQ(pack_ternary(codes_from(1, 5, five), 1.0f, PackFormat::tq1).payload,
              std::vector<uint8_t>{static_cast<uint8_t>(v)});
  }
}

// ---- sizes ----

TEST(PackedTernary, FixedFormatsTakeTwoAnd1Point6BitsPlusRowPadding) {
  for (const auto& [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {1, 7}, {3, 5}, {17, 129}, {64, 576}, {4, 640}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
    const Tensor codes = random_codes(rows, cols, 0.5, 7);
    const PackedTernary i2 = pack_ternary(codes, 1.0f, PackFormat::i2);
    const int64_t i2_cols = (cols + 127) / 128 * 128;
    EXPECT_EQ(i2.header.payload_bytes, rows * i2_cols / 4);
    EXPECT_EQ(fixed_payload_bytes(PackFormat::i2, rows, cols), rows * i2_cols / 4);
    EXPECT_DOUBLE_EQ(bits_per_weight(i2), 2.0 * i2_cols / cols);
    const PackedTernary tq1 = pack_ternary(codes, 1.0f, PackFormat::tq1);
    const int64_t tq1_cols = (cols + 4) / 5 * 5;
    EXPECT_EQ(tq1.header.payload_bytes, rows * tq1_cols / 5);
    EXPECT_EQ(fixed_payload_bytes(PackFormat::tq1, rows, cols), rows * tq1_cols / 5);
    EXPECT_DOUBLE_EQ(bits_per_weight(tq1), 1.6 * tq1_cols / cols);
    EXPECT_EQ(serialized_bytes(tq1), kPackHeaderBytes + tq1.payload.size());
  }
  EXPECT_DOUBLE_EQ(
      bits_per_weight(pack_ternary(random_codes(4, 640, 0.5, 8), 1.0f, PackFormat::i2)), 2.0);
  EXPECT_DOUBLE_EQ(
      bits_per_weight(pack_ternary(random_codes(4, 640, 0.5, 8), 1.0f, PackFormat::tq1)), 1.6);
  expect_error([] { fixed_payload_bytes(PackFormat::entropy, 4, 4); }, "depends on the weights");
}

// The entropy format against the empirical entropy of the same codes (the effective bits of
// SPEC §1), for a conv layer [64, 64 * 3 * 3] and a large linear layer. Prints the table.
TEST(PackEntropy, SizeTracksEffectiveBits) {
  // 0.0791 and 0.63038: the dense and sparse zero ratios of 1.32 effective bits.
  const std::vector<double> all = {0.0, 0.0791, 1.0 / 3, 0.5, 0.63038, 0.8, 0.9, 0.99, 0.999};
  const std::vector<double> some = {0.0791, 1.0 / 3, 0.63038, 0.9, 0.99};  // keeps the test fast
  std::printf("%-11s %-9s %-9s %-9s %-9s %-9s %-11s %s\n", "shape", "zeros", "H", "entropy",
              "overhead", "+header", "tq1", "i2");
  uint64_t seed = 1000;
  for (const auto& [rows, cols] :
       std::vector<std::pair<int64_t, int64_t>>{{64, 576}, {4096, 4096}}) {
    for (double z : rows* cols > 1'000'000 ? some : all) {
      SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols) + " zeros " +
                   std::to_string(z));
      const Tensor codes = random_codes(rows, cols, z, seed++);
      const double h = ternary_stats(codes).effective_bits;
      const PackedTernary p = pack_ternary(codes, 1.0f, PackFormat::entropy);
      EXPECT_TRUE(test::all_equal(unpack_codes(p), codes));
      const double bits = bits_per_weight(p);
      const double n = static_cast<double>(codes.numel());
      const double with_header = 8.0 * serialized_bytes(p) / n;
      std::printf("%4lldx%-6lld %-9.5f %-9.5f %-9.5f %-9.6f %-9.5f %-11.4f %.4f\n",
                  static_cast<long long>(rows), static_cast<long long>(cols), z, h, bits, bits - h,
                  with_header, bits_per_weight(pack_ternary(codes, 1.0f, PackFormat::tq1)),
                  bits_per_weight(pack_ternary(codes, 1.0f, PackFormat::i2)));
      // The payload can undercut n * H only by what the 32-bit final state holds; above it,
      // the overhead is that state, the 16-bit rounding of the frequencies and the coder's
      // truncation loss.
      EXPECT_GE(bits, h - 32.0 / n);
      EXPECT_LE(bits - h, 32.0 / n + 5e-4);
    }
  }
}

// ---- rANS edge cases ----

TEST(PackEntropy, SingleSymbolTensorsTakeOnlyTheStateBytes) {
  // 60,200 weights: within max_entropy_weights(4) = 69,632 (larger ones are refused, as the
  // reader would refuse them: test_fuzz_finds).
  for (int8_t value : {-1, 0, 1}) {
    Tensor codes({200, 301}, DType::i8);
    codes.fill(value);
    const PackedTernary p = pack_ternary(codes, 1.0f, PackFormat::entropy);
    TernaryFreqs expected{};
    expected[value + 1] = kRansTotal;
    EXPECT_EQ(p.header.freq, expected);
    EXPECT_EQ(p.payload.size(), 4u);
    EXPECT_TRUE(test::all_equal(unpack_codes(p), codes));
  }
}

TEST(PackEntropy, OneRareWeightGetsFrequencyOneAndRoundTrips) {
  Tensor codes({256, 256}, DType::i8);
  codes.data<int8_t>()[12345] = -1;
  const PackedTernary p = pack_ternary(codes, 1.0f, PackFormat::entropy);
  EXPECT_EQ(p.header.freq, (TernaryFreqs{1, kRansTotal - 1, 0}));
  EXPECT_TRUE(test::all_equal(unpack_codes(p), codes));
  // About 16 bits for the rare weight plus 2^16 * log2(65536 / 65535) ~ 1.4 bits, plus 4 bytes.
  EXPECT_LE(p.payload.size(), 8u);
}

TEST(PackEntropy, QuantizedFrequenciesSumTo2To16AndKeepEveryPresentSymbol) {
  EXPECT_EQ(quantize_frequencies({5, 0, 0}), (TernaryFreqs{kRansTotal, 0, 0}));
  EXPECT_EQ(quantize_frequencies({1, 1, 2}), (TernaryFreqs{16384, 16384, 32768}));
  const TernaryFreqs even = quantize_frequencies({1, 1, 1});
  EXPECT_EQ(even[0] + even[1] + even[2], kRansTotal);
  for (uint32_t f : even) EXPECT_TRUE(f == 21845 || f == 21846) << f;
  const TernaryFreqs skewed = quantize_frequencies({1, int64_t{1} << 40, 3});
  EXPECT_EQ(skewed, (TernaryFreqs{1, kRansTotal - 2, 1}));
  expect_error([] { quantize_frequencies({0, 0, 0}); }, "must not all be zero");
  expect_error([] { quantize_frequencies({-1, 2, 0}); }, "non-negative");
  expect_error([] { quantize_frequencies({int64_t{1} << 47, 0, 0}); }, "under 2^47");
}

TEST(PackEntropy, EncodingASymbolWithFrequencyZeroIsAnError) {
  const int8_t codes[] = {0, 1};
  expect_error([&] { rans_encode(codes, 2, TernaryFreqs{0, kRansTotal, 0}); }, "frequency is 0");
  expect_error([&] { rans_encode(codes, 2, TernaryFreqs{1, 2, 3}); }, "must sum to 65536");
}

// ---- bad input to pack ----

TEST(PackedTernary, PackRejectsBadInput) {
  expect_error([] { pack_ternary(Tensor({2, 2}), 1.0f, PackFormat::i2); }, "int8 codes");
  expect_error([] { pack_ternary(Tensor({4}, DType::i8), 1.0f, PackFormat::i2); }, "[rows, cols]");
  expect_error(
      [] {
        pack_ternary(Tensor({2, 2, 3, 3}, DType::i8), 1.0f, PackFormat::i2);
      },
      "in * kh * kw");
  expect_error([] { pack_ternary(Tensor({0, 5}, DType::i8), 1.0f, PackFormat::tq1); }, "non-empty");
  expect_error(
      [] {
        pack_ternary(codes_from(1, 3, {0, 2, 0}), 1.0f, PackFormat::entropy);
      },
      "code 1 is 2");
  expect_error([] { pack_ternary(codes_from(1, 1, {0}), std::nanf(""), PackFormat::i2); },
               "scale must be finite");
  expect_error([] { pack_ternary(codes_from(1, 1, {0}), 1.0f, static_cast<PackFormat>(7)); },
               "unknown format");
}

TEST(PackedTernary, FormatNamesRoundTrip) {
  for (PackFormat format : kFormats)
    EXPECT_EQ(pack_format_from_name(pack_format_name(format)), format);
  expect_error([] { pack_format_from_name("i4"); }, "expected i2, tq1 or entropy");
}

// ---- corrupt input ----

std::string packed_bytes(PackFormat format) {
  return serialize_packed(pack_ternary(random_codes(6, 133, 0.5, 77), 0.5f, format));
}

// The bytes with the little-endian header field at `offset` set to `value`.
std::string with_field(std::string bytes, size_t offset, uint32_t value, int width = 4) {
  for (int i = 0; i < width; ++i) bytes.at(offset + i) = static_cast<char>(value >> (8 * i));
  return bytes;
}

TEST(PackedTernary, ParseRejectsEveryTruncationAndTrailingBytes) {
  for (PackFormat format : kFormats) {
    SCOPED_TRACE(pack_format_name(format));
    const std::string bytes = packed_bytes(format);
    for (size_t n = 0; n < bytes.size(); ++n)
      EXPECT_THROW(parse_packed(bytes.substr(0, n), "cut"), Error) << n << " bytes";
    expect_error([&] { parse_packed(bytes.substr(0, 39), "w.bin"); },
                 "packed ternary 'w.bin': 39 bytes, shorter than the 40-byte header");
    expect_error([&] { parse_packed(bytes.substr(0, bytes.size() - 1), "w.bin"); }, "truncated");
    expect_error([&] { parse_packed(bytes + '\0', "w.bin"); }, "1 bytes after the end");
  }
}

TEST(PackedTernary, ParseRejectsImpossibleHeaders) {
  const std::string i2 = packed_bytes(PackFormat::i2);
  const std::string entropy = packed_bytes(PackFormat::entropy);
  expect_error([&] { parse_packed(with_field(i2, 0, 0x4E525443 + 1), "x"); }, "magic");
  expect_error([&] { parse_packed(with_field(i2, 4, 2, 1), "x"); }, "version 2");
  expect_error([&] { parse_packed(with_field(i2, 5, 3, 1), "x"); }, "unknown format 3");
  expect_error([&] { parse_packed(with_field(i2, 6, 1, 2), "x"); }, "reserved");
  expect_error([&] { parse_packed(with_field(i2, 8, 0), "x"); }, "non-empty");
  expect_error([&] { parse_packed(with_field(i2, 12, 0), "x"); }, "non-empty");
  expect_error([&] { parse_packed(with_field(with_field(i2, 8, 0x10000), 12, 0x10000), "x"); },
               "fewer than 2^32 weights");
  expect_error([&] { parse_packed(with_field(i2, 16, 0x7FC00000), "x"); }, "scale must be finite");
  expect_error([&] { parse_packed(with_field(i2, 16, 0x7F800000), "x"); }, "scale must be finite");
  expect_error([&] { parse_packed(with_field(i2, 20, 5), "x"); }, "frequencies must be 0");
  expect_error([&] { parse_packed(with_field(i2, 32, 7), "x"); }, "must be 384 bytes");
  expect_error([&] { parse_packed(with_field(with_field(i2, 32, 0), 36, 0x80000000), "x"); },
               "impossible payload");
  expect_error([&] { parse_packed(with_field(entropy, 20, 1), "x"); }, "must sum to 65536");
  expect_error([&] { parse_packed(with_field(i2, 5, 2, 1), "x"); }, "must sum to 65536");
  expect_error([&] { parse_packed(with_field(entropy, 32, 3), "x"); }, "shorter than the 4-byte");
  // A fixed-format header whose rows/cols disagree with the payload it carries.
  expect_error([&] { parse_packed(with_field(i2, 8, 7), "x"); }, "must be 448 bytes");
}

TEST(PackedTernary, UnpackRejectsCorruptPayloads) {
  {
    PackedTernary p = pack_ternary(codes_from(1, 3, {0, 1, -1}), 1.0f, PackFormat::i2);
    p.payload[2] |= 0x03;  // weight 2's field holds code 0b11
    expect_error([&] { unpack_codes(p); }, "byte 2 (0x57) holds the unused code 0b11");
    p = pack_ternary(codes_from(1, 3, {0, 1, -1}), 1.0f, PackFormat::i2);
    p.payload[3] = 0x56;  // padding weight 3 set to +1
    expect_error([&] { unpack_codes(p); }, "padding weight 3 of row 0 is not 0");
  }
  {
    PackedTernary p = pack_ternary(codes_from(2, 3, {0, 1, -1, 1, 1, 1}), 1.0f, PackFormat::tq1);
    p.payload[1] = 243;
    expect_error([&] { unpack_codes(p); }, "byte 1 is 243");
    p.payload[1] = 2 + 6 + 18;  // first three trits +1, padding trit 3 is 0 (weight -1)
    expect_error([&] { unpack_codes(p); }, "padding weight 3 of row 1 is not 0");
  }
  {
    const PackedTernary good =
        pack_ternary(random_codes(8, 100, 0.6, 5), 1.0f, PackFormat::entropy);
    PackedTernary p = good;
    p.payload.pop_back();
    p.header.payload_bytes -= 1;
    EXPECT_THROW(unpack_codes(p), Error);
    p = good;
    p.payload.push_back(0);
    p.header.payload_bytes += 1;
    expect_error([&] { unpack_codes(p); }, "unread bytes");
    p = good;
    p.payload[3] = 0x80;  // initial state >= 2^31
    expect_error([&] { unpack_codes(p); }, "outside [2^23, 2^31)");
    p = good;
    p.payload.pop_back();  // payload disagrees with the header
    expect_error([&] { unpack_codes(p); }, "header says");
  }
}

// Every single-byte change of a valid entropy stream is either reported or decodes to a tensor
// of the right shape: corrupt input never crashes. Most changes are caught by the final state.
TEST(PackEntropy, ByteFlipsAreReportedOrHarmless) {
  const Tensor codes = random_codes(16, 200, 0.63, 6);
  const PackedTernary good = pack_ternary(codes, 1.0f, PackFormat::entropy);
  int caught = 0, total = 0;
  for (size_t i = 0; i < good.payload.size(); ++i)
    for (uint8_t mask : {0x01, 0x10, 0x80, 0xFF}) {
      PackedTernary p = good;
      p.payload[i] ^= mask;
      ++total;
      try {
        const Tensor out = unpack_codes(p);
        EXPECT_EQ(out.shape(), codes.shape());
      } catch (const Error&) {
        ++caught;
      }
    }
  EXPECT_GT(caught, total * 9 / 10) << caught << " of " << total;
}

}  // namespace
}  // namespace chimera
