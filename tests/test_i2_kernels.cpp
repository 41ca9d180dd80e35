// Packed ternary (i2) kernels: the reference packer's layout and round trip, every supported
// ISA and every micro-kernel against the scalar oracle and against i8t_gemm on the unpacked
// weights (all bit-exact: the sums are integers), odd shapes, strides, extreme values, threads.
#include <gtest/gtest.h>

#include "test_util.h"

#include <string>
#include <tuple>
#include <vector>

#include "engine/error.h"
#include "engine/kernels/i2_layout.h"
#include "engine/kernels/i2t_gemm.h"
#include "engine/kernels/i2t_gemm_ukernels.h"
#include "engine/kernels/i8t_gemm.h"
#include "engine/kernels/isa.h"
#include "engine/rng.h"
#include "engine/threads.h"

namespace chimera {
namespace {

using test::error_of;

std::string shape_name(int64_t M, int64_t N, int64_t K) {
  return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K);
}

std::vector<int8_t> random_ternary(Rng& rng, int64_t n) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(rng.below(3) - 1);
  return v;
}

std::vector<uint8_t> pack(int64_t N, int64_t K, const std::vector<int8_t>& w) {
  std::vector<uint8_t> packed(i2_packed_bytes(N, K) + 1);  // +1: nothing past the end is read
  i2_pack_ref(N, K, w.data(), K, packed.data());
  return packed;
}

// One problem: A in strided, misaligned storage with values in its gaps that would change the
// result if read; W ternary [N, K] and its packed form; C with a sentinel in its gaps.
struct Problem {
  int64_t M, N, K, lda;
  std::vector<int8_t> a, w;  // a[1 + m * lda + k]
  std::vector<uint8_t> packed;
  static constexpr int32_t kSentinel = -123456789;

  Problem(Rng& rng, int64_t M, int64_t N, int64_t K, int64_t pad_a = 0)
      : M(M),
        N(N),
        K(K),
        lda(K + pad_a),
        a(1 + M * lda, int8_t{-128}),
        w(random_ternary(rng, N * K)) {
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k)
        a[1 + m * lda + k] = static_cast<int8_t>(rng.below(255) - 127);
    packed = pack(N, K, w);
  }

  std::vector<int32_t> run(Isa isa, int64_t pad_c = 0) const {
    std::vector<int32_t> c(M * (N + pad_c), kSentinel);
    i2t_gemm_isa(isa, M, N, K, a.data() + 1, lda, packed.data(), c.data(), N + pad_c);
    return c;
  }
  std::vector<int32_t> run_ukernel(I2tGemmUkernel ukernel) const {
    std::vector<int32_t> c(M * N, kSentinel);
    ukernel(M, N, K, a.data() + 1, lda, packed.data(), c.data(), N);
    return c;
  }
  // The unpacked product (i8t_gemm's scalar oracle), laid out like run()'s result.
  std::vector<int32_t> run_unpacked(int64_t pad_c = 0) const {
    std::vector<int32_t> c(M * (N + pad_c), kSentinel);
    i8t_gemm_isa(Isa::scalar, M, N, K, a.data() + 1, lda, w.data(), K, c.data(), N + pad_c);
    return c;
  }
};

// ---------------------------------------------------------------- layout and reference packer

TEST(I2Layout, SizesRoundColumnsUpToBlocksOf128) {
  EXPECT_EQ(i2_padded_cols(0), 0);
  EXPECT_EQ(i2_padded_cols(1), 128);
  EXPECT_EQ(i2_padded_cols(128), 128);
  EXPECT_EQ(i2_padded_cols(129), 256);
  EXPECT_EQ(i2_row_bytes(300), 96);
  EXPECT_EQ(i2_packed_bytes(5, 300), 480);
}

TEST(I2Layout, WeightJOfABlockIsByteJMod32AtBits2TimesJDiv32) {
  const int64_t K = 256;
  for (int64_t k : {0, 1, 31, 32, 33, 63, 64, 95, 96, 127, 128, 160, 255}) {
    for (int w : {-1, 1}) {
      std::vector<int8_t> row(K, 0);
      row[k] = static_cast<int8_t>(w);
      std::vector<uint8_t> packed(i2_row_bytes(K));
      i2_pack_ref(1, K, row.data(), K, packed.data());
      const int64_t j = k % 128, byte = k / 128 * 32 + j % 32, shift = 2 * (j / 32);
      for (int64_t i = 0; i < i2_row_bytes(K); ++i) {
        const int expected = i == byte ? (0x55 & ~(3 << shift)) | ((w + 1) << shift) : 0x55;
        ASSERT_EQ(packed[i], expected) << "k=" << k << " w=" << w << " byte " << i;
      }
      EXPECT_EQ(i2_code(packed.data(), k), w + 1);
    }
  }
}

TEST(I2Layout, PackUnpackRoundTripOnOddShapesAndStrides) {
  Rng rng(21);
  for (const auto& [N, K] : {std::tuple{1, 1}, {3, 127}, {5, 128}, {7, 129}, {2, 300}, {9, 1000}}) {
    SCOPED_TRACE("N=" + std::to_string(N) + " K=" + std::to_string(K));
    const int64_t ld = K + 3;
    std::vector<int8_t> w(N * ld, int8_t{7});  // 7 in the gaps: must be neither read nor written
    const auto values = random_ternary(rng, N * K);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) w[n * ld + k] = values[n * K + k];
    std::vector<uint8_t> packed(i2_packed_bytes(N, K));
    i2_pack_ref(N, K, w.data(), ld, packed.data());
    for (int64_t n = 0; n < N; ++n)  // padding columns hold code 1 (weight 0)
      for (int64_t k = K; k < i2_padded_cols(K); ++k)
        ASSERT_EQ(i2_code(packed.data() + n * i2_row_bytes(K), k), 1);
    std::vector<int8_t> back(N * ld, int8_t{7});
    i2_unpack_ref(N, K, packed.data(), back.data(), ld);
    EXPECT_EQ(back, w);
  }
}

TEST(I2Layout, PackRejectsNonTernaryAndUnpackRejectsCode3) {
  const int8_t w[3] = {1, 2, -1};
  uint8_t packed[32];
  EXPECT_NE(error_of([&] {
              i2_pack_ref(1, 3, w, 3, packed);
            }).find("weight (0, 1) is 2; packed weights must be ternary"),
            std::string::npos);
  std::fill(packed, packed + 32, uint8_t{0x55});
  packed[5] = 0x55 | (3 << 4);  // column 64 + 5
  int8_t out[128];
  EXPECT_NE(error_of([&] { i2_unpack_ref(1, 128, packed, out, 128); }).find("code 3 at (0, 69)"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { i2_unpack_ref(1, 60, packed, out, 60); }), "");  // 69 is padding here
}

// ---------------------------------------------------------------- i2t_gemm, per ISA

class I2tGemmIsa : public ::testing::TestWithParam<Isa> {};

// M = 1 (GEMV), small M and large M (>= 64: the panel path up to K = 2048), odd N and K.
TEST_P(I2tGemmIsa, MatchesScalarAndUnpackedOnShapeMixes) {
  Rng rng(22);
  const int64_t ms[] = {1, 2, 3, 5, 8, 17, 63, 64, 65, 130};
  const int64_t ns[] = {1, 3, 4, 7, 8, 9, 16, 17, 33, 64, 65, 100};
  const int64_t ks[] = {1, 3, 4, 5, 27, 63, 64, 65, 127, 128, 129, 144, 255, 256, 300, 577, 2100};
  int i = 0;
  for (int64_t M : ms)
    for (int64_t K : ks) {
      const int64_t N = ns[i++ % std::size(ns)];
      SCOPED_TRACE(shape_name(M, N, K));
      Problem p(rng, M, N, K);
      const auto c = p.run(GetParam());
      ASSERT_EQ(c, p.run(Isa::scalar));
      ASSERT_EQ(c, p.run_unpacked());
    }
}

// Every path (GEMV, tiles, panel, and tiles for large M with K past the panel's limit).
TEST_P(I2tGemmIsa, StridedMisalignedOperandsReadAndWriteOnlyTheirRows) {
  Rng rng(23);
  for (const auto& [M, N, K] : {std::tuple{1, 9, 129},
                                {5, 7, 33},
                                {17, 9, 200},
                                {70, 31, 129},
                                {1, 1, 1},
                                {100, 5, 300},
                                {130, 5, 8200}}) {
    SCOPED_TRACE(shape_name(M, N, K));
    Problem p(rng, M, N, K, /*pad_a=*/5);
    const auto c = p.run(GetParam(), /*pad_c=*/3);
    ASSERT_EQ(c, p.run_unpacked(3));  // includes the untouched sentinels
  }
}

// |a| = 127 against all-equal weights drives every partial sum to its bound, up to the deepest
// K allowed (the GEMVs' scaled accumulators are closest to overflow there); the int16 sums of
// the AVX2 kernels reach their bound exactly at their widening steps (every 1024, 2048 or 4096
// columns, all crossed here).
TEST_P(I2tGemmIsa, ExtremeValuesUpToTheDeepestKAreExact) {
  for (int64_t K : {int64_t{2047}, int64_t{2048}, int64_t{2049}, int64_t{8193}, int64_t{1} << 22}) {
    for (int64_t M : {int64_t{1}, int64_t{2}, int64_t{8}, int64_t{9}, int64_t{64}}) {
      SCOPED_TRACE(shape_name(M, 5, K));
      const int64_t N = 5;
      std::vector<int8_t> a(M * K), w(N * K);
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t m = 0; m < M; ++m)
          a[m * K + k] = m % 3 == 0 ? 127 : m % 3 == 1 ? -127 : (k % 2 ? 127 : -127);
        w[0 * K + k] = 1;
        w[1 * K + k] = -1;
        w[2 * K + k] = 0;
        w[3 * K + k] = (k % 2) ? 1 : -1;
        w[4 * K + k] = (k % 3 == 0) ? -1 : 1;
      }
      const auto packed = pack(N, K, w);
      std::vector<int32_t> expected(M * N), c(M * N, -1);
      i8t_gemm_isa(Isa::scalar, M, N, K, a.data(), K, w.data(), K, expected.data(), N);
      ASSERT_EQ(expected[0], 127 * K);
      i2t_gemm_isa(GetParam(), M, N, K, a.data(), K, packed.data(), c.data(), N);
      ASSERT_EQ(c, expected);
      if (K > 10000) break;  // one M is enough at the deepest K
    }
  }
}

TEST_P(I2tGemmIsa, ZeroDepthWritesZeros) {
  std::vector<int32_t> c(6, 7);
  i2t_gemm_isa(GetParam(), 2, 3, 0, nullptr, 0, nullptr, c.data(), 3);
  EXPECT_EQ(c, std::vector<int32_t>(6, 0));
}

TEST_P(I2tGemmIsa, ResultDoesNotDependOnThreadCount) {
  Rng rng(24);
  for (const auto& [M, N, K] : {std::tuple{1, 1001, 515}, {9, 333, 300}, {300, 129, 577}}) {
    SCOPED_TRACE(shape_name(M, N, K));
    Problem p(rng, M, N, K);
    const int saved = num_threads();
    set_num_threads(1);
    const auto one = p.run(GetParam());
    set_num_threads(3);
    const auto three = p.run(GetParam());
    set_num_threads(saved);
    EXPECT_EQ(one, three);
    EXPECT_EQ(one, p.run_unpacked());
  }
}

// The float output is i2t_gemm's sums through the scalar epilogue, bit for bit, on every path
// (GEMV, tiles, panels, several blocks per row and column), with per-row scales, clip, bias,
// residual and ReLU, into a strided Y whose gaps stay untouched; K = 0 gives the epilogue of 0.
TEST_P(I2tGemmIsa, FloatOutputIsTheEpilogueOfTheSums) {
  Rng rng(25);
  for (const auto& [M, N, K] : {std::tuple{1, 37, 129},
                                {5, 300, 64},
                                {70, 33, 129},
                                {300, 600, 257},
                                {130, 5, 8200},
                                {3, 4, 0}}) {
    SCOPED_TRACE(shape_name(M, N, K));
    Problem p(rng, M, N, K);
    const int64_t ldy = N + 2;
    std::vector<float> row_scale(M), bias(N), residual(M * ldy);
    for (auto& v : row_scale) v = 0.001f + 0.01f * static_cast<float>(rng.uniform());
    for (auto& v : bias) v = static_cast<float>(rng.uniform()) - 0.5f;
    for (auto& v : residual) v = 2.0f * static_cast<float>(rng.uniform()) - 1.0f;
    const std::vector<int32_t> sums = K ? p.run_unpacked() : std::vector<int32_t>(M * N, 0);
    for (int variant = 0; variant < 8; ++variant) {
      SCOPED_TRACE("epilogue variant " + std::to_string(variant));
      AccScale s;
      s.scale = 0.0123f;
      s.clip = 0.75f;
      if (variant & 1) s.row_scale = row_scale.data();
      if (variant & 2) s.bias = bias.data();
      if (variant & 4) s.residual = residual.data(), s.relu = true;
      std::vector<float> y(M * ldy, -7.0f), expected(M * ldy, -7.0f);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          AccScale rs = s;
          if (s.row_scale) rs.scale = s.row_scale[m];
          expected[m * ldy + n] = epilogue_ref(rs, sums[m * N + n], n, m * ldy + n);
        }
      i2t_gemm_f32_isa(GetParam(), M, N, K, p.a.data() + 1, p.lda, p.packed.data(), s, y.data(),
                       ldy);
      ASSERT_EQ(test::bits(y), test::bits(expected));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, I2tGemmIsa, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// ---------------------------------------------------------------- each micro-kernel, any M

struct NamedUkernel {
  const char* name;
  Isa isa;
  I2tGemmUkernel fn;
};

// Every micro-kernel honours the full contract (any M, N, K), whichever path the driver gives it.
TEST(I2tGemmUkernels, EveryUkernelMatchesTheOracleOnAllSmallShapes) {
  const NamedUkernel ukernels[] = {
      {"avx2_1x1", Isa::avx2, i2t_gemv_ukernel__avx2_1x1},
      {"avx2_8x1", Isa::avx2, i2t_gemm_ukernel__avx2_8x1},
      {"avx2_6x16c4", Isa::avx2, i2t_gemm_ukernel__avx2_6x16c4},
      {"avx512vnni_1x4", Isa::avx512vnni, i2t_gemv_ukernel__avx512vnni_1x4},
      {"avx512vnni_4x4", Isa::avx512vnni, i2t_gemm_ukernel__avx512vnni_4x4},
      {"avx512vnni_16x16c4", Isa::avx512vnni, i2t_gemm_ukernel__avx512vnni_16x16c4}};
  Rng rng(25);
  int tested = 0;
  for (const auto& u : ukernels) {
    if (!isa_supported(u.isa)) continue;
    ++tested;
    for (int64_t M : {1, 2, 3, 4, 5, 6, 7, 12, 13, 16, 17, 25})
      for (int64_t N : {1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 31, 33, 48, 49, 63, 64, 65, 130})
        for (int64_t K : {1, 2, 3, 4, 5, 31, 64, 65, 128, 129, 257}) {
          SCOPED_TRACE(std::string(u.name) + " " + shape_name(M, N, K));
          Problem p(rng, M, N, K, /*pad_a=*/M % 2 ? 3 : 0);
          ASSERT_EQ(p.run_ukernel(u.fn), p.run_ukernel(i2t_gemm_ukernel__scalar));
        }
  }
  EXPECT_GT(tested, 0) << "no SIMD micro-kernel supported on this machine";
}

// ---------------------------------------------------------------- dispatch and checks

TEST(I2tGemm, DefaultEntryUsesTheActiveIsa) {
  Rng rng(26);
  for (int64_t M : {1, 7, 100}) {
    Problem p(rng, M, 41, 515);
    std::vector<int32_t> c(M * 41);
    i2t_gemm(M, 41, 515, p.a.data() + 1, p.lda, p.packed.data(), c.data(), 41);
    EXPECT_EQ(c, p.run(active_isa()));
  }
}

TEST(I2tGemm, RejectsInvalidArguments) {
  std::vector<int8_t> a(64);
  std::vector<uint8_t> w(64);
  std::vector<int32_t> c(64);
  auto call = [&](int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldc) {
    return error_of([&] { i2t_gemm(M, N, K, a.data(), lda, w.data(), c.data(), ldc); });
  };
  EXPECT_NE(call(2, 2, 8, 7, 2).find("row strides must cover a row: lda=7 (K=8)"),
            std::string::npos);
  EXPECT_NE(call(2, 2, 8, 8, 1).find("ldc=1 (N=2)"), std::string::npos);
  EXPECT_NE(call(2, -1, 8, 8, 2).find("sizes must be >= 0"), std::string::npos);
  EXPECT_NE(call(1, 1, (int64_t{1} << 22) + 1, int64_t{1} << 23, 1).find("too deep"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              i2t_gemm(1, 1, 8, nullptr, 8, w.data(), c.data(), 1);
            }).find("null data pointer"),
            std::string::npos);
  EXPECT_EQ(call(2, 2, 8, 8, 2), "");
  // Shared-input batches: 1 to 8 products, each checked like a single one.
  std::vector<float> y(64);
  std::vector<I2tFloatProduct> products(9, I2tFloatProduct{2, w.data(), AccScale{}, y.data(), 2});
  auto shared = [&](int64_t count) {
    return error_of([&] { i2t_gemm_f32_shared(2, 8, a.data(), 8, products.data(), count); });
  };
  EXPECT_NE(shared(0).find("1 to 8 products"), std::string::npos);
  EXPECT_NE(shared(9).find("1 to 8 products"), std::string::npos);
  EXPECT_EQ(shared(8), "");
  products[1].ldy = 1;
  EXPECT_NE(shared(2).find("ldc=1 (N=2)"), std::string::npos);
}

}  // namespace
}  // namespace chimera
