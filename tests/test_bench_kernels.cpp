// The pieces of `chimera bench kernels` that are not timings: the shape list (the convolution
// to GEMM mapping), the baselines computing the same product, and the timer's bookkeeping.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/kernels/i8t_gemm.h"
#include "engine/rng.h"
#include "harness/experiments/bench_kernels.h"
#include "harness/experiments/kernel_baselines.h"

namespace chimera {
namespace {

const KernelBenchShape& find(const std::vector<KernelBenchShape>& shapes, const std::string& name) {
  for (const auto& s : shapes)
    if (s.name == name) return s;
  ADD_FAILURE() << "no shape " << name;
  return shapes.front();
}

TEST(KernelBenchShapes, ConvolutionsAreImplicitGemmsAtBatch128) {
  const auto shapes = kernel_bench_shapes();
  const auto& conv1 = find(shapes, "resnet20 conv1 3x3 3->16 32x32");
  EXPECT_EQ(conv1.M, 128 * 32 * 32);
  EXPECT_EQ(conv1.N, 16);
  EXPECT_EQ(conv1.K, 3 * 9);
  const auto& shortcut = find(shapes, "resnet20 layer2.0.shortcut 1x1/2 16->32 16x16");
  EXPECT_EQ(shortcut.M, 128 * 16 * 16);
  EXPECT_EQ(shortcut.N, 32);
  EXPECT_EQ(shortcut.K, 16);
  const auto& layer3 = find(shapes, "resnet20 layer3 3x3 64->64 8x8");
  EXPECT_EQ(layer3.M, 128 * 8 * 8);
  EXPECT_EQ(layer3.K, 64 * 9);
  int convs = 0;
  for (const auto& s : shapes)
    if (s.name.rfind("resnet20", 0) == 0) convs += s.count;
  EXPECT_EQ(convs, 21);  // 19 3x3 convolutions and 2 projection shortcuts
  const auto& gemv = find(shapes, "gemv 11008x4096");
  EXPECT_EQ(gemv.M, 1);
  EXPECT_EQ(gemv.N, 11008);
  EXPECT_EQ(gemv.K, 4096);
  EXPECT_EQ(find(shapes, "gemm 4096x4096 batch 8").M, 8);
  const auto& bitnet = find(shapes, "bitnet.cpp [128,8192]x[8192,2048]");  // [M, K] x [K, N]
  EXPECT_EQ(bitnet.M, 128);
  EXPECT_EQ(bitnet.N, 2048);
  EXPECT_EQ(bitnet.K, 8192);
}

// Both baselines compute A W^T exactly (the float sums stay below 2^24), for the GEMV (sgemv)
// and the GEMM path.
TEST(KernelBaselines, Float32AndOneDnnInt8ComputeTheSameProduct) {
  Rng rng(31);
  for (int64_t M : {int64_t{1}, int64_t{5}}) {
    const int64_t N = 37, K = 131;
    std::vector<int8_t> a(M * K), w(N * K);
    for (auto& x : a) x = static_cast<int8_t>(rng.below(255) - 127);
    for (auto& x : w) x = static_cast<int8_t>(rng.below(3) - 1);
    std::vector<int32_t> expected(M * N);
    i8t_gemm_isa(Isa::scalar, M, N, K, a.data(), K, w.data(), K, expected.data(), N);
    F32Matmul f32(M, N, K, a.data(), w.data());
    f32.run();
    DnnlInt8Matmul int8(M, N, K, a.data(), w.data());
    int8.run();
    EXPECT_NE(std::string(int8.implementation()), "");
    for (int64_t i = 0; i < M * N; ++i) {
      ASSERT_EQ(static_cast<int32_t>(f32.result()[i]), expected[i]) << "M=" << M << " i=" << i;
      ASSERT_EQ(int8.result()[i], expected[i]) << "M=" << M << " i=" << i;
    }
  }
}

TEST(KernelBaselines, TimerRunsWarmUpPlusRepeatsAndOrdersMinAndMedian) {
  int runs = 0, betweens = 0;
  const Timing t = time_ms([&] { ++runs; }, 7, 0.0, [&] { ++betweens; });
  EXPECT_EQ(runs, 8);  // one untimed warm-up
  EXPECT_EQ(betweens, 8);
  EXPECT_LE(t.min_ms, t.median_ms);
  EXPECT_GE(t.min_ms, 0.0);
}

TEST(KernelBench, UnknownFilterIsAnErrorNamingTheShapes) {
  KernelBenchOptions options;
  options.filter = "no such shape";
  std::ostringstream out;
  try {
    run_kernel_bench(options, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--filter 'no such shape' matches no shape"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace chimera
