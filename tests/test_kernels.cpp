// Integer execution kernels: every supported ISA against the scalar oracle (bit-exact) and
// against float arithmetic on the same integers (also bit-exact: the sums stay below 2^24).
#include <gtest/gtest.h>
#include <sched.h>

#include "test_util.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "engine/kernels/attention_decode_f32.h"
#include "engine/kernels/conv2d_f32.h"
#include "engine/kernels/conv2d_i8t.h"
#include "engine/kernels/elementwise_f32.h"
#include "engine/kernels/quantize_i8.h"
#include "engine/kernels/reduce_f64.h"
#include "engine/kernels/gemm_f32.h"
#include "engine/kernels/i8t_gemm.h"
#include "engine/kernels/isa.h"
#include "engine/platform.h"
#include "engine/rng.h"
#include "engine/threads.h"

namespace chimera {
namespace {

constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx512vnni};

using test::error_of;

std::vector<int8_t> random_activations(Rng& rng, int64_t n) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(rng.below(255) - 127);
  return v;
}

std::vector<int8_t> random_ternary(Rng& rng, int64_t n) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(rng.below(3) - 1);
  return v;
}

std::vector<float> to_float(const std::vector<int8_t>& v) {
  return {v.begin(), v.end()};
}

// One GEMM problem in strided storage; the padding of A and W holds values that would change
// the result if read, the padding of C a sentinel that must survive.
struct Problem {
  int64_t M, N, K, lda, ldw, ldc;
  std::vector<int8_t> a, w;  // a[1 + m * lda + k]: offset by one byte to misalign rows
  static constexpr int32_t kSentinel = -123456789;

  Problem(Rng& rng, int64_t M, int64_t N, int64_t K, int64_t pad_a = 0, int64_t pad_w = 0)
      : M(M), N(N), K(K), lda(K + pad_a), ldw(K + pad_w), ldc(N) {
    a.assign(1 + M * lda, int8_t{-128});
    w.assign(1 + N * ldw, int8_t{100});
    const auto av = random_activations(rng, M * K), wv = random_ternary(rng, N * K);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) a[1 + m * lda + k] = av[m * K + k];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) w[1 + n * ldw + k] = wv[n * K + k];
  }

  std::vector<int32_t> run(Isa isa, int64_t pad_c = 0) {
    ldc = N + pad_c;
    std::vector<int32_t> c(M * ldc, kSentinel);
    i8t_gemm_isa(isa, M, N, K, a.data() + 1, lda, w.data() + 1, ldw, c.data(), ldc);
    return c;
  }

  // The same product in float (OpenBLAS), laid out like run()'s result.
  std::vector<int32_t> run_float(int64_t pad_c = 0) {
    std::vector<float> af(M * K), wf(N * K), cf(M * N);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < K; ++k) af[m * K + k] = a[1 + m * lda + k];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) wf[n * K + k] = w[1 + n * ldw + k];
    gemm_f32(false, true, M, N, K, 1.0f, af.data(), K, wf.data(), K, 0.0f, cf.data(), N);
    std::vector<int32_t> c(M * (N + pad_c), kSentinel);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) c[m * (N + pad_c) + n] = static_cast<int32_t>(cf[m * N + n]);
    return c;
  }
};

std::string shape_name(int64_t M, int64_t N, int64_t K) {
  return "M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K);
}

// ---------------------------------------------------------------- ISA selection


// gemm_f32 takes sgemv for a single row or column (M or N = 1): every transposition and stride
// against a double-precision loop, with alpha, beta and C's row stride in play.
TEST(GemmF32, SingleRowsAndColumnsMatchTheNaiveProductForEveryTransposition) {
  Rng rng(21);
  for (const auto& [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 7, 5}, {6, 1, 9},
                                {1, 1, 4}, {3, 5, 2}}) {
    for (const bool ta : {false, true})
      for (const bool tb : {false, true}) {
        SCOPED_TRACE(testing::Message() << M << "x" << N << "x" << K << " ta=" << ta << " tb=" << tb);
        const int64_t lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 3, ldc = N + 1;
        std::vector<float> a((ta ? K : M) * lda), b((tb ? N : K) * ldb), c(M * ldc);
        for (auto* v : {&a, &b, &c})
          for (float& x : *v) x = static_cast<float>(rng.normal());
        std::vector<float> want = c;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double sum = 0;
            for (int64_t k = 0; k < K; ++k)
              sum += double{ta ? a[k * lda + m] : a[m * lda + k]} * (tb ? b[n * ldb + k] : b[k * ldb + n]);
            want[m * ldc + n] = static_cast<float>(1.5 * sum + 0.5 * c[m * ldc + n]);
          }
        gemm_f32(ta, tb, M, N, K, 1.5f, a.data(), lda, b.data(), ldb, 0.5f, c.data(), ldc);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n)
            EXPECT_NEAR(c[m * ldc + n], want[m * ldc + n], 1e-5 * (1 + std::fabs(want[m * ldc + n])));
        // Padding between C's rows is never written.
        for (int64_t m = 0; m + 1 < M; ++m) EXPECT_EQ(c[m * ldc + N], want[m * ldc + N]);
      }
  }
}

TEST(Isa, NamesParseBack) {
  for (Isa isa : kAllIsas) EXPECT_EQ(parse_isa(isa_name(isa)), isa);
  EXPECT_STREQ(isa_name(Isa::avx512vnni), "avx512vnni");
}

TEST(Isa, UnknownNameIsAnErrorListingTheChoices) {
  for (const char* bad : {"avx512", "AVX2", "sse", " scalar"}) {
    const std::string msg = error_of([&] { parse_isa(bad); });
    EXPECT_NE(msg.find("unknown instruction set"), std::string::npos) << bad << ": " << msg;
    EXPECT_NE(msg.find("scalar, avx2, avx512vnni"), std::string::npos) << msg;
    EXPECT_THROW(select_isa(bad), Error);
  }
}

TEST(Isa, ForcedNameSelectsItOrIsRefusedWhenUnsupported) {
  EXPECT_TRUE(isa_supported(Isa::scalar));
  EXPECT_EQ(select_isa(nullptr), best_isa());
  EXPECT_EQ(select_isa(""), best_isa());
  EXPECT_EQ(select_isa("scalar"), Isa::scalar);
  for (Isa isa : kAllIsas) {
    if (isa_supported(isa)) {
      EXPECT_EQ(select_isa(isa_name(isa)), isa);
    } else {
      const std::string msg = error_of([&] { select_isa(isa_name(isa)); });
      EXPECT_NE(msg.find("does not support"), std::string::npos) << msg;
    }
  }
  // The best ISA is supported and no supported ISA ranks above it.
  EXPECT_TRUE(isa_supported(best_isa()));
  for (Isa isa : kAllIsas) {
    if (isa_supported(isa)) {
      EXPECT_LE(static_cast<int>(isa), static_cast<int>(best_isa()));
    }
  }
}

TEST(Isa, ActiveIsaFollowsEnvironmentOnce) {
  EXPECT_EQ(active_isa(), select_isa(std::getenv("CHIMERA_ISA")));
  EXPECT_EQ(active_isa(), active_isa());
}

// The platform line names the CPUs the process may run on, as ranges, and the default thread
// count is their number: pinned to one CPU, that CPU and one thread; unpinned, all of them.
TEST(Platform, CpusAndDefaultThreadsFollowTheProcessAffinity) {
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  int first = -1, count = 0;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &before)) {
      if (first < 0) first = c;
      ++count;
    }
  ASSERT_GE(first, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const std::string pinned = allowed_cpus();
  const std::string line = describe(platform());
  const int pinned_threads = hardware_threads();
  ASSERT_EQ(sched_setaffinity(0, sizeof(before), &before), 0);
  EXPECT_EQ(pinned, std::to_string(first));
  // The default thread count follows the pin: one CPU, one thread.
  EXPECT_EQ(pinned_threads, 1);
  EXPECT_EQ(hardware_threads(), count);
  EXPECT_NE(line.find(" cpus=" + std::to_string(first) + " "), std::string::npos) << line;
  const std::string all = allowed_cpus();
  if (count > 1) {
    EXPECT_NE(all, pinned);
    EXPECT_EQ(all.rfind(std::to_string(first), 0), 0u) << all;  // starts at the first CPU
  } else {
    EXPECT_EQ(all, pinned);
  }
}

// ---------------------------------------------------------------- i8t_gemm, per ISA

class I8tGemmIsa : public ::testing::TestWithParam<Isa> {};

constexpr int64_t kSizes[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 65, 127, 129, 300};
constexpr int64_t kNumSizes = std::size(kSizes);

// Every size appears as M and as K against a spread of N.
TEST_P(I8tGemmIsa, MatchesScalarAndFloatOnSizeMixes) {
  Rng rng(11);
  for (int64_t ik = 0; ik < kNumSizes; ++ik)
    for (int64_t im = 0; im < kNumSizes; ++im) {
      const int64_t M = kSizes[im], K = kSizes[ik], N = kSizes[(im + 3 * ik + 5) % kNumSizes];
      SCOPED_TRACE(shape_name(M, N, K));
      Problem p(rng, M, N, K);
      const auto c = p.run(GetParam());
      ASSERT_EQ(c, p.run(Isa::scalar));
      ASSERT_EQ(c, p.run_float());
    }
}

TEST_P(I8tGemmIsa, MatchesScalarOnAllSmallShapes) {
  Rng rng(12);
  const int64_t small[] = {1, 2, 3, 4, 5, 7, 16, 17, 33, 63, 64, 65};
  for (int64_t M : small)
    for (int64_t N : small)
      for (int64_t K : small) {
        SCOPED_TRACE(shape_name(M, N, K));
        Problem p(rng, M, N, K);
        ASSERT_EQ(p.run(GetParam()), p.run(Isa::scalar));
      }
}

// Row strides larger than a row, misaligned rows, garbage in the gaps, sentinels in C's gaps.
TEST_P(I8tGemmIsa, StridedMisalignedOperandsReadAndWriteOnlyTheirRows) {
  Rng rng(13);
  for (const auto& [M, N, K] :
       {std::tuple{5, 7, 33}, {17, 9, 64}, {3, 13, 100}, {65, 31, 129}, {1, 1, 1}, {2, 5, 300}}) {
    SCOPED_TRACE(shape_name(M, N, K));
    Problem p(rng, M, N, K, /*pad_a=*/5, /*pad_w=*/13);
    const auto c = p.run(GetParam(), /*pad_c=*/3);
    ASSERT_EQ(c, p.run(Isa::scalar, 3));
    ASSERT_EQ(c, p.run_float(3));  // includes the untouched sentinels
    for (int64_t m = 0; m < M; ++m)
      for (int64_t j = N; j < N + 3; ++j) ASSERT_EQ(c[m * (N + 3) + j], Problem::kSentinel);
  }
}

// |a| = 127 with all-equal weights drives every partial sum to its bound; K crosses the AVX2
// int16 widening period (64 steps of 32 = 2048) and the vector tails.
TEST_P(I8tGemmIsa, ExtremeValuesWithDeepKAreExact) {
  for (int64_t K : {2047, 2048, 2049, 4096, 4096 + 63, 8192 + 1}) {
    SCOPED_TRACE("K=" + std::to_string(K));
    const int64_t M = 3, N = 5;
    std::vector<int8_t> a(M * K), w(N * K);
    for (int64_t k = 0; k < K; ++k) {
      a[0 * K + k] = 127;
      a[1 * K + k] = -127;
      a[2 * K + k] = (k % 2) ? 127 : -127;
      w[0 * K + k] = 1;
      w[1 * K + k] = -1;
      w[2 * K + k] = 0;
      w[3 * K + k] = (k % 2) ? 1 : -1;
      w[4 * K + k] = (k % 3 == 0) ? -1 : 1;
    }
    std::vector<int32_t> expected(M * N);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        int64_t s = 0;
        for (int64_t k = 0; k < K; ++k) s += int64_t{a[m * K + k]} * w[n * K + k];
        expected[m * N + n] = static_cast<int32_t>(s);
      }
    EXPECT_EQ(expected[0], 127 * K);
    EXPECT_EQ(expected[1 * N + 0], -127 * K);
    std::vector<int32_t> c(M * N, -1);
    i8t_gemm_isa(GetParam(), M, N, K, a.data(), K, w.data(), K, c.data(), N);
    EXPECT_EQ(c, expected);
  }
}

TEST_P(I8tGemmIsa, ZeroDepthWritesZeros) {
  std::vector<int32_t> c(6, 7);
  const int8_t dummy = 1;
  i8t_gemm_isa(GetParam(), 2, 3, 0, &dummy, 0, &dummy, 0, c.data(), 3);
  EXPECT_EQ(c, std::vector<int32_t>(6, 0));
}

TEST_P(I8tGemmIsa, ResultDoesNotDependOnThreadCount) {
  Rng rng(14);
  Problem p(rng, 300, 129, 577);
  const int saved = num_threads();
  set_num_threads(1);
  const auto one = p.run(GetParam());
  set_num_threads(3);
  const auto three = p.run(GetParam());
  set_num_threads(saved);
  EXPECT_EQ(one, three);
  EXPECT_EQ(one, p.run(Isa::scalar));
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, I8tGemmIsa, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// ---------------------------------------------------------------- i8t_gemm, dispatch and checks

TEST(I8tGemm, DefaultEntryUsesTheActiveIsa) {
  Rng rng(15);
  Problem p(rng, 37, 41, 515);
  std::vector<int32_t> c(37 * 41);
  i8t_gemm(37, 41, 515, p.a.data() + 1, p.lda, p.w.data() + 1, p.ldw, c.data(), 41);
  EXPECT_EQ(c, p.run(active_isa()));
}

TEST(I8tGemm, RejectsInvalidArguments) {
  std::vector<int8_t> a(64), w(64);
  std::vector<int32_t> c(64);
  auto call = [&](int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldw, int64_t ldc) {
    return error_of([&] { i8t_gemm(M, N, K, a.data(), lda, w.data(), ldw, c.data(), ldc); });
  };
  EXPECT_NE(call(2, 2, 8, 7, 8, 2).find("row strides must cover a row: lda=7"), std::string::npos);
  EXPECT_NE(call(2, 2, 8, 8, 8, 1).find("ldc=1 (N=2)"), std::string::npos);
  EXPECT_NE(call(-1, 2, 8, 8, 8, 2).find("sizes must be >= 0"), std::string::npos);
  EXPECT_NE(
      call(1, 1, (int64_t{1} << 24) + 1, int64_t{1} << 25, int64_t{1} << 25, 1).find("too deep"),
      std::string::npos);
  EXPECT_EQ(call(2, 2, 8, 8, 8, 2), "");
}

// ---------------------------------------------------------------- conv2d_i8t

struct ConvCase {
  const char* name;
  Shape x, w;
  Conv2dParams p;
};

// The integer convolution equals the float convolution of the same integers, exactly.
void expect_conv_matches_float(const ConvCase& cc, Rng& rng) {
  SCOPED_TRACE(cc.name);
  const ConvGeometry g = conv_geometry(cc.x, cc.w, cc.p);
  const auto xq = random_activations(rng, shape_numel(cc.x));
  const auto wq = random_ternary(rng, shape_numel(cc.w));
  const int64_t out_size = g.n * g.c_out * g.out_pixels();
  std::vector<int32_t> acc(out_size, Problem::kSentinel);
  conv2d_i8t(g, xq.data(), wq.data(), acc.data());
  std::vector<float> y(out_size);
  conv2d_forward_f32(g, to_float(xq).data(), to_float(wq).data(), y.data());
  for (int64_t i = 0; i < out_size; ++i)
    ASSERT_EQ(acc[i], static_cast<int32_t>(y[i])) << "at flat index " << i;
}

TEST(Conv2dI8t, MatchesFloatConvolution) {
  Rng rng(21);
  const ConvCase cases[] = {
      {"1x1", {2, 8, 5, 7}, {6, 8, 1, 1}, {}},
      {"3x3 pad 1 odd spatial", {2, 3, 9, 11}, {8, 3, 3, 3}, {.pad_h = 1, .pad_w = 1}},
      {"3x3 stride 2 pad 1",
       {3, 16, 15, 13},
       {16, 16, 3, 3},
       {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}},
      {"1x1 stride 2 shortcut", {2, 16, 8, 8}, {32, 16, 1, 1}, {.stride_h = 2, .stride_w = 2}},
      {"3x3 dilation 2 pad 2",
       {1, 4, 13, 9},
       {5, 4, 3, 3},
       {.pad_h = 2, .pad_w = 2, .dil_h = 2, .dil_w = 2}},
      {"groups 2", {2, 6, 7, 7}, {4, 3, 3, 3}, {.pad_h = 1, .pad_w = 1, .groups = 2}},
      {"depthwise stride 2",
       {2, 8, 9, 9},
       {8, 1, 3, 3},
       {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .groups = 8}},
      {"asymmetric 2x3",
       {1, 5, 10, 6},
       {7, 5, 2, 3},
       {.stride_h = 2, .stride_w = 1, .pad_h = 0, .pad_w = 1, .dil_h = 1, .dil_w = 2}},
      {"resnet 64ch 3x3", {4, 64, 8, 8}, {64, 64, 3, 3}, {.pad_h = 1, .pad_w = 1}},
      {"deep K=2304", {1, 256, 6, 5}, {3, 256, 3, 3}, {.pad_h = 1, .pad_w = 1}},
  };
  for (const ConvCase& cc : cases) expect_conv_matches_float(cc, rng);
}

// A batch whose lowered activations exceed one chunk, as in a CIFAR ResNet's first stage.
TEST(Conv2dI8t, LargeBatchSpansSeveralChunks) {
  Rng rng(22);
  expect_conv_matches_float(
      {"batch 160 32x32x16", {160, 16, 32, 32}, {16, 16, 3, 3}, {.pad_h = 1, .pad_w = 1}}, rng);
}


// ---------------------------------------------------------------- direct convolution per ISA
//
// The direct kernels (tap rows, AVX2 and AVX-512 VNNI) against the scalar reference path
// (im2col + scalar GEMM), bit for bit: int32 sums, the scaled floats, and the inference epilogue
// (BatchNorm, residual add, ReLU) against the unfused element-wise kernels applied one by one.
// Output sizes smaller than, equal to and larger than a tile (8 / 16 pixels per vector, 2 vectors
// per AVX2 tile), odd sizes, channel counts below, at and past a weight block (8), and depths
// past the AVX2 kernel's int16 widening interval (64 steps of 4 channels).

class Conv2dIsa : public ::testing::TestWithParam<Isa> {};

const ConvCase kIsaCases[] = {
    {"tile-sized 1x4 16 px", {2, 4, 4, 4}, {8, 4, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"smaller than a vector 2x3", {3, 5, 2, 3}, {3, 5, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"odd 9x11 7 channels", {2, 6, 9, 11}, {7, 6, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"stride 2 5x5 out", {3, 5, 9, 9}, {7, 5, 3, 3}, {.stride_h = 2, .stride_w = 2}},
    {"resnet stage 1", {2, 16, 32, 32}, {16, 16, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"resnet stem", {2, 3, 32, 32}, {16, 3, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"resnet down 16->32",
     {2, 16, 32, 32},
     {32, 16, 3, 3},
     {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}},
    {"resnet shortcut 1x1 stride 2", {2, 32, 16, 16}, {64, 32, 1, 1}, {.stride_h = 2, .stride_w = 2}},
    {"resnet stage 3, 144 steps", {2, 64, 8, 8}, {64, 64, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"13 channels 72 steps", {1, 32, 7, 13}, {13, 32, 3, 3}, {.pad_h = 1, .pad_w = 1}},
    {"groups 2 dilation 2",
     {2, 8, 11, 10},
     {6, 4, 3, 3},
     {.pad_h = 2, .pad_w = 2, .dil_h = 2, .dil_w = 2, .groups = 2}},
    {"deep K=2304", {1, 256, 6, 5}, {11, 256, 3, 3}, {.pad_h = 1, .pad_w = 1}},
};

using test::bits;

struct Epilogue {
  std::vector<float> bias, bn_mul, bn_add, residual;
  AccScale scale(bool with_bias, bool bn, bool with_residual, bool relu) const {
    AccScale s;
    s.scale = 0.0123f;
    s.clip = 0.75f;
    if (with_bias) s.bias = bias.data();
    if (bn) s.bn_mul = bn_mul.data(), s.bn_add = bn_add.data();
    if (with_residual) s.residual = residual.data();
    s.relu = relu;
    return s;
  }
};

Epilogue random_epilogue(Rng& rng, int64_t channels, int64_t outputs) {
  Epilogue e;
  auto uniform = [&](int64_t n, float lo, float hi) {
    std::vector<float> v(n);
    for (auto& x : v) x = lo + (hi - lo) * static_cast<float>(rng.uniform());
    return v;
  };
  e.bias = uniform(channels, -1, 1);
  e.bn_mul = uniform(channels, 0.2f, 2);
  e.bn_add = uniform(channels, -0.5f, 0.5f);
  e.residual = uniform(outputs, -2, 2);
  return e;
}

// scale_acc_f32 for the scale and bias, then BatchNorm, residual and ReLU one element-wise kernel
// at a time: what the ops compute without fusion.
std::vector<float> unfused(const ConvGeometry& g, const std::vector<int32_t>& acc,
                           const AccScale& s) {
  const int64_t P = g.out_pixels(), size = g.n * g.c_out * P;
  std::vector<float> y(size);
  AccScale plain;
  plain.scale = s.scale, plain.clip = s.clip, plain.bias = s.bias;
  scale_acc_f32(g.n, g.c_out, P, acc.data(), plain, y.data());
  if (s.bn_mul)
    for (int64_t row = 0; row < g.n * g.c_out; ++row)
      fma_f32(P, y.data() + row * P, s.bn_mul[row % g.c_out], s.bn_add[row % g.c_out],
              y.data() + row * P);
  if (s.residual) add_f32(size, y.data(), s.residual, y.data());
  if (s.relu) relu_f32(size, y.data(), y.data());
  return y;
}

// Every output of scale_acc_f32 is epilogue_ref of its accumulator, channel and element, for
// the linear shape (inner = 1: channels consecutive in a row) and the convolution shape.
TEST(ScaleAccF32, EveryOutputIsTheScalarEpilogue) {
  Rng rng(30);
  for (const auto& [outer, channels, inner] :
       {std::tuple<int64_t, int64_t, int64_t>{3, 37, 1}, {1, 4096, 1}, {2, 5, 67}, {4, 16, 9}}) {
    SCOPED_TRACE(std::to_string(outer) + "x" + std::to_string(channels) + "x" +
                 std::to_string(inner));
    const int64_t size = outer * channels * inner;
    std::vector<int32_t> acc(size);
    for (auto& a : acc) a = static_cast<int32_t>(rng.below(200001)) - 100000;
    const Epilogue e = random_epilogue(rng, channels, size);
    for (int variant = 0; variant < 16; ++variant) {
      SCOPED_TRACE("epilogue variant " + std::to_string(variant));
      const AccScale s = e.scale(variant & 1, variant & 2, variant & 4, variant & 8);
      std::vector<float> y(size, -1.0f), expected(size);
      scale_acc_f32(outer, channels, inner, acc.data(), s, y.data());
      for (int64_t i = 0; i < size; ++i)
        expected[i] = epilogue_ref(s, acc[i], i / inner % channels, i);
      ASSERT_EQ(bits(y), bits(expected));
    }
  }
}

TEST_P(Conv2dIsa, DirectKernelMatchesScalarReferenceBitForBit) {
  Rng rng(31);
  for (const ConvCase& cc : kIsaCases) {
    SCOPED_TRACE(cc.name);
    const ConvGeometry g = conv_geometry(cc.x, cc.w, cc.p);
    const int64_t size = g.n * g.c_out * g.out_pixels();
    const auto xq = random_activations(rng, shape_numel(cc.x));
    const auto wq = random_ternary(rng, shape_numel(cc.w));
    std::vector<int32_t> expected(size), acc(size, Problem::kSentinel);
    conv2d_i8t_on(Isa::scalar, g, xq.data(), wq.data(), expected.data());
    conv2d_i8t_on(GetParam(), g, xq.data(), wq.data(), acc.data());
    ASSERT_EQ(acc, expected);

    const Epilogue e = random_epilogue(rng, g.c_out, size);
    for (int variant = 0; variant < 16; ++variant) {
      SCOPED_TRACE("epilogue variant " + std::to_string(variant));
      const AccScale s = e.scale(variant & 1, variant & 2, variant & 4, variant & 8);
      std::vector<float> y(size, -1.0f);
      conv2d_i8t_scaled_on(GetParam(), g, xq.data(), wq.data(), s, y.data());
      ASSERT_EQ(bits(y), bits(unfused(g, expected, s)));
    }
  }
}

// From floats: the codes quantize_i8 gives, then the same product and epilogue.
TEST_P(Conv2dIsa, QuantizingWhilePackingMatchesQuantizeThenConvolve) {
  Rng rng(32);
  for (const ConvCase& cc : kIsaCases) {
    SCOPED_TRACE(cc.name);
    const ConvGeometry g = conv_geometry(cc.x, cc.w, cc.p);
    const int64_t size = g.n * g.c_out * g.out_pixels();
    std::vector<float> x(shape_numel(cc.x));
    for (auto& v : x) v = static_cast<float>(rng.normal());
    const float beta = abs_max_f32(static_cast<int64_t>(x.size()), x.data()) / 127.0f + 1e-6f;
    std::vector<int8_t> xq(x.size());
    quantize_i8(static_cast<int64_t>(x.size()), x.data(), beta, xq.data());
    const auto wq = random_ternary(rng, shape_numel(cc.w));
    std::vector<int32_t> acc(size);
    conv2d_i8t_on(Isa::scalar, g, xq.data(), wq.data(), acc.data());
    const Epilogue e = random_epilogue(rng, g.c_out, size);
    const AccScale s = e.scale(true, true, true, true);
    std::vector<float> y(size, -1.0f);
    conv2d_i8t_scaled_from_f32_on(GetParam(), g, x.data(), beta, wq.data(), s, y.data());
    ASSERT_EQ(bits(y), bits(unfused(g, acc, s)));
  }
}

// The largest sums the int16 partial sums of the AVX2 kernel meet: every activation at +-127
// (bytes 255 / 1 after the +128 shift) against all-+1 or all--1 weights, 576 steps deep.
TEST_P(Conv2dIsa, ExtremeValuesStayExact) {
  const ConvGeometry g =
      conv_geometry({1, 256, 8, 8}, {16, 256, 3, 3}, {.pad_h = 1, .pad_w = 1});
  for (const int8_t x : {int8_t{127}, int8_t{-127}}) {
    std::vector<int8_t> xq(256 * 64, x);
    std::vector<int8_t> wq(16 * 256 * 9);
    for (size_t i = 0; i < wq.size(); ++i) wq[i] = (i / (256 * 9)) % 2 ? 1 : -1;
    std::vector<int32_t> expected(16 * 64), acc(16 * 64);
    conv2d_i8t_on(Isa::scalar, g, xq.data(), wq.data(), expected.data());
    conv2d_i8t_on(GetParam(), g, xq.data(), wq.data(), acc.data());
    EXPECT_EQ(expected[9], (x > 0 ? -1 : 1) * 127 * 256 * 9);  // an interior pixel, channel 0
    EXPECT_EQ(acc, expected);
  }
}

TEST_P(Conv2dIsa, ResultDoesNotDependOnThreadCount) {
  Rng rng(33);
  const ConvGeometry g = conv_geometry({5, 16, 16, 16}, {32, 16, 3, 3}, {.pad_h = 1, .pad_w = 1});
  const auto xq = random_activations(rng, 5 * 16 * 256);
  const auto wq = random_ternary(rng, 32 * 16 * 9);
  const int saved = num_threads();
  std::vector<int32_t> one(5 * 32 * 256), two(5 * 32 * 256);
  set_num_threads(1);
  conv2d_i8t_on(GetParam(), g, xq.data(), wq.data(), one.data());
  set_num_threads(2);
  conv2d_i8t_on(GetParam(), g, xq.data(), wq.data(), two.data());
  set_num_threads(saved);
  EXPECT_EQ(one, two);
}

INSTANTIATE_TEST_SUITE_P(SupportedIsas, Conv2dIsa, ::testing::ValuesIn(supported_isas()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });


// ---------------------------------------------------------------- element-wise kernels per ISA

// Each SIMD element-wise kernel against its scalar reference, bit for bit, at lengths around the
// vector widths, with NaN, -0 and +0 among the values.
TEST(ElementwiseIsa, SimdKernelsMatchScalarBitForBit) {
  struct Kernels {
    Isa isa;
    void (*add)(int64_t, const float*, const float*, float*);
    void (*relu)(int64_t, const float*, float*);
    void (*relu_backward)(int64_t, const float*, const float*, float*);
    void (*fma)(int64_t, const float*, float, float, float*);
    void (*i8_to_f32)(int64_t, const int8_t*, float*);
    void (*exp)(int64_t, const float*, float*);
    void (*softmax)(int64_t, int64_t, float*);
  };
  const Kernels scalar{Isa::scalar,     add_f32__scalar,   relu_f32__scalar,
                       relu_backward_f32__scalar, fma_f32__scalar, i8_to_f32__scalar,
                       exp_f32__scalar, softmax_f32__scalar};
  const Kernels simd[] = {
      {Isa::avx2, add_f32__avx2, relu_f32__avx2, relu_backward_f32__avx2, fma_f32__avx2,
       i8_to_f32__avx2, exp_f32__avx2, softmax_f32__avx2},
      {Isa::avx512vnni, add_f32__avx512vnni, relu_f32__avx512vnni, relu_backward_f32__avx512vnni,
       fma_f32__avx512vnni, i8_to_f32__avx512vnni, exp_f32__avx512vnni, softmax_f32__avx2}};
  Rng rng(41);
  int checked = 0;
  for (const Kernels& k : simd) {
    if (!isa_supported(k.isa)) continue;
    SCOPED_TRACE(isa_name(k.isa));
    for (const int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 1000}) {
      SCOPED_TRACE("n=" + std::to_string(n));
      std::vector<float> a(n), b(n);
      std::vector<int8_t> q(n);
      for (int64_t i = 0; i < n; ++i) {
        a[i] = static_cast<float>(rng.normal());
        b[i] = static_cast<float>(rng.normal());
        q[i] = static_cast<int8_t>(rng.below(256) - 128);
      }
      if (n > 3) a[1] = -0.0f, a[2] = std::nanf(""), a[3] = 0.0f, b[2] = -0.0f;
      auto same = [&](auto run) {
        std::vector<float> expected(n, 5.0f), actual(n, 5.0f);
        run(scalar, expected.data());
        run(k, actual.data());
        EXPECT_EQ(bits(actual), bits(expected));
      };
      same([&](const Kernels& kk, float* y) { kk.add(n, a.data(), b.data(), y); });
      same([&](const Kernels& kk, float* y) { kk.relu(n, a.data(), y); });
      same([&](const Kernels& kk, float* y) { kk.relu_backward(n, a.data(), b.data(), y); });
      same([&](const Kernels& kk, float* y) { kk.fma(n, a.data(), 1.37f, -0.21f, y); });
      same([&](const Kernels& kk, float* y) { kk.i8_to_f32(n, q.data(), y); });
      // exp over its whole range: past both ends, the halves of 2^k, infinities and NaN.
      std::vector<float> e(n);
      for (int64_t i = 0; i < n; ++i) e[i] = static_cast<float>(rng.uniform(-100.0, 100.0));
      const float special[] = {-INFINITY, INFINITY, std::nanf(""), -0.0f, 88.72f, 88.73f,
                               -87.33f, -87.34f, 0.5f * 0.6931472f};
      for (int64_t i = 0; i < n && i < 9; ++i) e[i] = special[i];
      same([&](const Kernels& kk, float* y) { kk.exp(n, e.data(), y); });
      // softmax of scores (the maximum anywhere in the row, its tail included) and with
      // -inf, +inf and NaN among them; three padding slots get zeros.
      if (n > 0) {
        // Three kinds of rows: one score far above the rest (the sum is nearly 1), scores of
        // similar size (every lane's sum carries rounding, so the lanes' combination shows),
        // and special values.
        for (const int kind : {0, 1, 2}) {
          const bool special_values = kind == 2;
          std::vector<float> row(n + 3, 9.0f);
          for (int64_t i = 0; i < n; ++i)
            row[i] = (kind == 1 ? 2.0f : 30.0f) * static_cast<float>(rng.normal());
          if (kind != 1) row[rng.below(n)] = 100.0f;
          if (special_values && n > 3) row[0] = -INFINITY, row[n - 1] = std::nanf("");
          if (special_values && n == 2) row[1] = INFINITY;
          std::vector<float> expected = row, actual = row;
          scalar.softmax(n, n + 3, expected.data());
          k.softmax(n, n + 3, actual.data());
          // A NaN anywhere makes the row NaN; which NaN (sign, payload) depends on operand
          // order inside the compiler's code, so NaNs compare as one value.
          for (auto* v : {&expected, &actual})
            for (float& x : *v)
              if (std::isnan(x)) x = std::nanf("");
          EXPECT_EQ(bits(actual), bits(expected));
          if (!special_values) {
            double total = 0.0;
            for (int64_t i = 0; i < n; ++i) total += expected[i];
            EXPECT_NEAR(total, 1.0, 1e-5);
            EXPECT_EQ(expected[n], 0.0f);
          }
        }
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked > 0, best_isa() != Isa::scalar);  // every SIMD path this CPU has ran
}

// ---------------------------------------------------------------- sums in double

// The AVX2 sums against reduce_f64.h's fixed order written out with sum_terms, bit for bit, at
// lengths around the 8 lanes, with values of very different sizes so that the order shows.
TEST(ReduceF64Isa, Avx2SumsMatchTheFixedOrderBitForBit) {
  if (!isa_supported(Isa::avx2)) {
    EXPECT_EQ(best_isa(), Isa::scalar);  // only a CPU without AVX2 may skip the comparison
    return;
  }
  Rng rng(45);
  for (const int64_t n : {0, 1, 7, 8, 9, 16, 23, 1000, 1027}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    std::vector<float> x(n), g(n);
    for (int64_t i = 0; i < n; ++i) {
      x[i] = static_cast<float>(rng.normal() * std::pow(10.0, rng.uniform(-4.0, 4.0)));
      g[i] = static_cast<float>(rng.normal());
    }
    const float m = 0.37f;
    auto same = [](double a, double b) {
      EXPECT_EQ(std::bit_cast<uint64_t>(a), std::bit_cast<uint64_t>(b));
    };
    same(sum_f64__avx2(n, x.data()), sum_terms(n, [&](int64_t i) { return double{x[i]}; }));
    same(sum_sq_f64__avx2(n, x.data()),
         sum_terms(n, [&](int64_t i) { return static_cast<double>(x[i]) * x[i]; }));
    same(sum_sq_dev_f64__avx2(n, x.data(), m), sum_terms(n, [&](int64_t i) {
           const float d = x[i] - m;
           return static_cast<double>(d * d);
         }));
    double sg = 0.0, sgd = 0.0;
    sum_and_dot_dev_f64__avx2(n, g.data(), x.data(), m, &sg, &sgd);
    same(sg, sum_terms(n, [&](int64_t i) { return double{g[i]}; }));
    same(sgd, sum_terms(n, [&](int64_t i) { return static_cast<double>(g[i] * (x[i] - m)); }));
  }
}

// ---------------------------------------------------------------- attention for one query

// The fused decoding attention against the same computation in double: scores, softmax and the
// weighted sum of values, within float rounding, for each of the heads sharing the keys.
TEST(AttentionDecode, MatchesTheFormulaInDouble) {
  Rng rng(43);
  for (const auto& [keys, hd, heads] : std::vector<std::array<int64_t, 3>>{
           {1, 8, 1}, {5, 6, 3}, {9, 64, 4}, {70, 64, 2}, {33, 72, 1}}) {
    SCOPED_TRACE("keys=" + std::to_string(keys) + " head_dim=" + std::to_string(hd));
    const int64_t ld = hd + 5;  // rows of a cache hold other heads too
    std::vector<float> q(heads * ld), k(keys * ld), v(keys * ld), p(heads * keys),
        out(heads * ld, 9.0f);
    for (float& x : q) x = static_cast<float>(rng.normal());
    for (float& x : k) x = static_cast<float>(rng.normal());
    for (float& x : v) x = static_cast<float>(rng.normal());
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    attention_decode_f32({keys, heads, hd, scale, q.data(), ld, k.data(), ld, v.data(), ld,
                          p.data(), out.data(), ld});
    for (int64_t h = 0; h < heads; ++h) {
      std::vector<double> s(keys);
      double m = -1e300, sum = 0.0;
      for (int64_t j = 0; j < keys; ++j) {
        double d = 0.0;
        for (int64_t c = 0; c < hd; ++c) d += static_cast<double>(q[h * ld + c]) * k[j * ld + c];
        m = std::max(m, s[j] = d * scale);
      }
      for (double& x : s) sum += (x = std::exp(x - m));
      for (int64_t j = 0; j < keys; ++j) EXPECT_NEAR(p[h * keys + j], s[j] / sum, 1e-6) << j;
      for (int64_t c = 0; c < hd; ++c) {
        double want = 0.0;
        for (int64_t j = 0; j < keys; ++j) want += s[j] / sum * v[j * ld + c];
        EXPECT_NEAR(out[h * ld + c], want, 2e-6) << h << " " << c;
      }
      for (int64_t c = hd; c < ld; ++c) EXPECT_EQ(out[h * ld + c], 9.0f);  // strides respected
    }
  }
}

// Its AVX2 path against the scalar reference, bit for bit: key counts around the 8 keys scored
// at once, feature counts around the 8-lane blocks and the 64 features summed in registers, one
// to four heads, an infinite key and a NaN value among the inputs.
TEST(AttentionDecodeIsa, Avx2MatchesScalarBitForBit) {
  if (!isa_supported(Isa::avx2) || !__builtin_cpu_supports("fma")) {
    EXPECT_EQ(best_isa(), Isa::scalar);  // only a CPU without AVX2 may skip the comparison
    return;
  }
  Rng rng(44);
  int checked = 0;
  for (const int64_t keys : {1, 2, 7, 8, 9, 16, 17, 65}) {
    for (const int64_t hd : {2, 6, 8, 10, 64, 66, 72, 136}) {
      const int64_t heads = 1 + (keys + hd) % 4, ld = hd + 3;
      SCOPED_TRACE("keys=" + std::to_string(keys) + " head_dim=" + std::to_string(hd) +
                   " heads=" + std::to_string(heads));
      std::vector<float> q(heads * ld), k(keys * ld), v(keys * ld);
      for (float& x : q) x = static_cast<float>(3.0 * rng.normal());
      for (float& x : k) x = static_cast<float>(3.0 * rng.normal());
      for (float& x : v) x = static_cast<float>(rng.normal());
      for (const bool special : {false, true}) {
        if (special && keys > 2) k[ld] = INFINITY, v[(keys - 1) * ld + hd - 1] = std::nanf("");
        std::vector<float> pe(heads * keys, 7.0f), pa = pe, oe(heads * ld, 7.0f), oa = oe;
        attention_decode_f32__scalar({keys, heads, hd, 0.125f, q.data(), ld, k.data(), ld,
                                      v.data(), ld, pe.data(), oe.data(), ld});
        attention_decode_f32__avx2({keys, heads, hd, 0.125f, q.data(), ld, k.data(), ld,
                                    v.data(), ld, pa.data(), oa.data(), ld});
        for (auto* x : {&pe, &pa, &oe, &oa})  // which NaN comes out depends on operand order
          for (float& y : *x)
            if (std::isnan(y)) y = std::nanf("");
        EXPECT_EQ(bits(pa), bits(pe));
        EXPECT_EQ(bits(oa), bits(oe));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 8 * 8 * 2);
}

// exp_f32 against the double-precision exponential: within 2 ulp wherever the result is a normal
// float, +0 below ln(FLT_MIN), +inf above ln(FLT_MAX), NaN for NaN; in place too.
TEST(ElementwiseExp, WithinTwoUlpOfTheExactValueAndClampedAtTheEnds) {
  std::vector<float> x;
  for (float v = -87.3f; v < 88.7f; v += 0.0137f) x.push_back(v);
  for (float v = -1e-3f; v < 1e-3f; v += 1.3e-6f) x.push_back(v);
  std::vector<float> y(x.size());
  exp_f32(static_cast<int64_t>(x.size()), x.data(), y.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x[i])));
    const int64_t ulp = std::abs(static_cast<int64_t>(std::bit_cast<int32_t>(y[i])) -
                                 std::bit_cast<int32_t>(want));
    ASSERT_LE(ulp, 2) << "exp(" << x[i] << ") = " << y[i] << ", want " << want;
  }
  std::vector<float> ends = {-1000.0f, -87.4f, -INFINITY, 88.8f, 1e30f, INFINITY, std::nanf(""),
                             0.0f, -0.0f};
  exp_f32(static_cast<int64_t>(ends.size()), ends.data(), ends.data());  // in place
  EXPECT_EQ(ends[0], 0.0f);
  EXPECT_EQ(ends[1], 0.0f);
  EXPECT_EQ(ends[2], 0.0f);
  EXPECT_EQ(ends[3], INFINITY);
  EXPECT_EQ(ends[4], INFINITY);
  EXPECT_EQ(ends[5], INFINITY);
  EXPECT_TRUE(std::isnan(ends[6]));
  EXPECT_EQ(ends[7], 1.0f);
  EXPECT_EQ(ends[8], 1.0f);
}

}  // namespace
}  // namespace chimera
