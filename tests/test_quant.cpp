// The quantizer pieces of SPEC §1 against the reference's golden files, plus every error case.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/rng.h"
#include "golden.h"
#include "model/quant/abs_stat.h"
#include "model/quant/controller.h"
#include "model/quant/ema.h"
#include "model/quant/target_bits.h"
#include "model/quant/ternary.h"
#include "model/quant/ternary_stats.h"

namespace chimera {
namespace {

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

nlohmann::json params_of(const Safetensors& file) {
  return nlohmann::json::parse(file.metadata.at("params"));
}

double f64_at(const Tensor& t, int64_t i) {
  return t.to(DType::f64).data<double>()[i];
}

// Exact equality including the sign of zero: torch's ternary values carry -0.0.
::testing::AssertionResult bit_equal(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape() || actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << "shape or dtype differs";
  for (int64_t i = 0; i < actual.numel(); ++i) {
    uint32_t a, e;
    std::memcpy(&a, actual.f32() + i, 4);
    std::memcpy(&e, expected.f32() + i, 4);
    if (a != e)
      return ::testing::AssertionFailure()
             << "[" << i << "] got " << actual.f32()[i] << " expected " << expected.f32()[i];
  }
  return ::testing::AssertionSuccess();
}

void expect_stats(const TernaryStats& s, const Tensor& expected) {
  ASSERT_EQ(expected.numel(), 4);
  EXPECT_NEAR(s.zero_ratio, f64_at(expected, 0), 1e-12);
  EXPECT_NEAR(s.plus_ratio, f64_at(expected, 1), 1e-12);
  EXPECT_NEAR(s.minus_ratio, f64_at(expected, 2), 1e-12);
  EXPECT_NEAR(s.effective_bits, f64_at(expected, 3), 1e-12);
}

// ---- golden: quantize ----

TEST(QuantGolden, StrictTernaryMatchesExactly) {
  const Safetensors g = test::load_golden("quantize");
  const Tensor& U = g.at("U");
  const Tensor& gammas = g.at("gammas");
  ASSERT_EQ(gammas.numel(), 3);
  for (int64_t i = 0; i < gammas.numel(); ++i) {
    SCOPED_TRACE("strict.g" + std::to_string(i));
    const std::string key = "strict.g" + std::to_string(i);
    const float gamma = gammas.f32()[i];
    const Tensor q = quantize_strict(U, gamma);
    EXPECT_TRUE(bit_equal(q, g.at(key)));
    const Tensor codes = quantize_strict_i8(U, gamma);
    EXPECT_EQ(codes.dtype(), DType::i8);
    EXPECT_TRUE(test::all_equal(codes, g.at(key)));
    expect_stats(ternary_stats(q), g.at(key + ".stats"));
    expect_stats(ternary_stats(codes), g.at(key + ".stats"));
  }
}

TEST(QuantGolden, ThresholdTernaryMatchesExactly) {
  const Safetensors g = test::load_golden("quantize");
  const Tensor& U = g.at("U");
  const Tensor& gammas = g.at("gammas");
  const Tensor& alphas = g.at("alphas");
  ASSERT_EQ(gammas.numel(), 3);
  ASSERT_EQ(alphas.numel(), 4);
  for (int64_t i = 0; i < gammas.numel(); ++i) {
    for (int64_t j = 0; j < alphas.numel(); ++j) {
      const std::string key = "chimera.g" + std::to_string(i) + ".a" + std::to_string(j);
      SCOPED_TRACE(key);
      // The file stores alpha as float32; the quantizer rounds alpha to float anyway, so the
      // reference's Python double and this float give the same threshold.
      const float gamma = gammas.f32()[i];
      const double alpha = alphas.f32()[j];
      const Tensor q = quantize_threshold(U, gamma, alpha);
      EXPECT_TRUE(bit_equal(q, g.at(key)));
      const Tensor codes = quantize_threshold_i8(U, gamma, alpha);
      EXPECT_TRUE(test::all_equal(codes, g.at(key)));
      expect_stats(ternary_stats(q), g.at(key + ".stats"));
      expect_stats(ternary_stats(codes), g.at(key + ".stats"));
    }
  }
}

TEST(QuantGolden, EntropyFromRatios) {
  const Safetensors g = test::load_golden("quantize");
  const Tensor ratios = g.at("entropy.ratios").to(DType::f64);
  const Tensor& bits = g.at("entropy.bits");
  ASSERT_EQ(ratios.shape(), (Shape{5, 3}));
  for (int64_t r = 0; r < ratios.size(0); ++r) {
    const double* p = ratios.data<double>() + 3 * r;
    EXPECT_NEAR(entropy_from_ratios(p[0], p[1], p[2]), f64_at(bits, r), 1e-12) << "row " << r;
  }
}

TEST(QuantGolden, AbsMeanAndLowerMedianMatchExactly) {
  const Safetensors g = test::load_golden("quantize");
  EXPECT_EQ(abs_stat(g.at("U"), StatMode::mean), g.at("abs_mean").f32()[0]);
  EXPECT_EQ(abs_stat(g.at("U"), StatMode::median), g.at("abs_median").f32()[0]);
}

// A case where the double mean rounds to a different float than torch's float sum / count.
TEST(QuantGolden, AbsMeanRoundsAsTorchOnBitLinearInit) {
  const Safetensors g = test::load_golden("bitlinear_chimera_seed");
  EXPECT_EQ(abs_stat(g.at("init.weight_master"), StatMode::mean), g.at("init.scale_ema").f32()[0]);
}

TEST(QuantGolden, TargetZeroRatioOnBothBranches) {
  const Safetensors g = test::load_golden("quantize");
  const nlohmann::json branches = params_of(g).at("target_branches");
  const Tensor& bits = g.at("target_bits");
  const Tensor& expected = g.at("target_zero_ratio");
  ASSERT_EQ(static_cast<int64_t>(branches.size()), bits.numel());
  ASSERT_EQ(expected.numel(), bits.numel());
  for (int64_t i = 0; i < bits.numel(); ++i) {
    const Branch branch = parse_branch(branches[i].get<std::string>());
    EXPECT_NEAR(zero_ratio_for_entropy(f64_at(bits, i), branch), f64_at(expected, i), 1e-12)
        << "h = " << f64_at(bits, i) << " on the " << branch_name(branch) << " branch";
  }
}

// The reference's m update is m.mul_(beta1).add_(grad, alpha=1 - beta1): the same float
// rounding as ema, so 25 steps of it pin down the fused multiply-add of torch's add kernel.
TEST(QuantGolden, EmaRoundsAsTorchOnOptimizerMoments) {
  const Safetensors g = test::load_golden("optimizer_chimera21");
  for (const std::string name : {"a", "b"}) {
    SCOPED_TRACE(name);
    const Tensor& grads = g.at("grads." + name);
    const int64_t steps = grads.size(0), n = grads.numel() / steps;
    Tensor m({n});
    for (int64_t s = 0; s < steps; ++s) {
      Tensor grad({n});
      std::memcpy(grad.f32(), grads.f32() + s * n, n * sizeof(float));
      m = ema(m, grad, 0.9);
    }
    EXPECT_TRUE(test::all_equal(m, g.at("state." + name + ".m").reshape({n})));
  }
}

// ---- golden: controller ----

TEST(ControllerGolden, AlphaSequence) {
  const Safetensors g = test::load_golden("controller");
  const nlohmann::json p = params_of(g);
  ControllerSettings s;
  s.target_bits = p.at("target_bits").get<double>();
  s.branch = parse_branch(p.at("branch").get<std::string>());
  s.tolerance = p.at("tolerance").get<double>();
  s.step_size = p.at("step_size").get<double>();
  s.alpha_min = p.at("alpha_min").get<double>();
  s.alpha_max = p.at("alpha_max").get<double>();
  const TargetBitsController controller(s);
  EXPECT_NEAR(controller.target_zero_ratio(), g.at("target_zero_ratio").item(), 1e-12);

  const Tensor inputs = g.at("inputs_alpha_zero").to(DType::f64);
  const Tensor& expected = g.at("expected_alpha");
  ASSERT_EQ(inputs.shape(), (Shape{expected.numel(), 2}));
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const double* in = inputs.data<double>() + 2 * i;
    EXPECT_EQ(controller.update(in[0], in[1]), f64_at(expected, i)) << "update " << i;
  }
}

// ---- abs_stat ----

TEST(AbsStat, LowerMedianForEvenCount) {
  EXPECT_EQ(abs_stat(Tensor::from_vector({4}, {1, -4, 3, 2}), StatMode::median), 2.0f);
  EXPECT_EQ(abs_stat(Tensor::from_vector({3}, {-5, 1, 3}), StatMode::median), 3.0f);
  EXPECT_EQ(abs_stat(Tensor::from_vector({2, 2}, {-1, 2, -3, 4}), StatMode::mean), 2.5f);
}

TEST(AbsStat, MedianOfNanIsNan) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(abs_stat(Tensor::from_vector({3}, {1, nan, 2}), StatMode::median)));
}

TEST(AbsStat, AcceptsFloat64) {
  Tensor d({3}, DType::f64);
  double* p = d.data<double>();
  p[0] = -1.0;
  p[1] = 2.0;
  p[2] = -4.5;
  EXPECT_EQ(abs_stat(d, StatMode::mean), 2.5f);
  EXPECT_EQ(abs_stat(d, StatMode::median), 2.0f);
}

TEST(AbsStat, ModeNamesRoundTrip) {
  EXPECT_EQ(parse_stat_mode("mean"), StatMode::mean);
  EXPECT_EQ(parse_stat_mode("median"), StatMode::median);
  EXPECT_STREQ(stat_mode_name(StatMode::mean), "mean");
  EXPECT_STREQ(stat_mode_name(StatMode::median), "median");
}

TEST(AbsStat, Errors) {
  expect_error([] { parse_stat_mode("x"); }, "stat_mode must be 'mean' or 'median', got 'x'");
  expect_error([] { abs_stat(Tensor({0})); }, "non-empty");
  expect_error([] { abs_stat(Tensor()); }, "non-empty");
  expect_error([] { abs_stat(Tensor({3}, DType::i8)); }, "floating-point tensor, got i8");
}

// ---- ema ----

TEST(Ema, BlendsAndKeepsEndpoints) {
  EXPECT_EQ(ema(1.0f, 3.0f, 0.5), 2.0f);
  EXPECT_EQ(ema(0.1f, 7.0f, 1.0), 0.1f);
  EXPECT_EQ(ema(0.1f, 7.0f, 0.0), 7.0f);
  const Tensor out =
      ema(Tensor::from_vector({2}, {1, 10}), Tensor::from_vector({2}, {3, 20}), 0.75);
  EXPECT_TRUE(test::all_equal(out, Tensor::from_vector({2}, {1.5f, 12.5f})));
}

TEST(Ema, Errors) {
  expect_error([] { ema(1.0f, 2.0f, 1.5); }, "rho must be in [0, 1], got 1.5");
  expect_error([] { ema(1.0f, 2.0f, -0.1); }, "rho must be in [0, 1], got -0.1");
  expect_error([] { ema(1.0f, 2.0f, std::nan("")); }, "rho must be in [0, 1]");
  expect_error([] { ema(Tensor({2}), Tensor({3}), 0.5); }, "ema");
  expect_error([] { ema(Tensor({2}), Tensor({2}), 2.0); }, "rho must be in [0, 1], got 2");
}

// ---- quantizers ----

TEST(Ternary, StrictRoundsHalfToEvenAndClamps) {
  const Tensor U = Tensor::from_vector({7}, {0.5f, -0.5f, 0.50001f, 1.5f, -3.0f, 0.2f, 0.0f});
  const Tensor q = quantize_strict(U, 1.0f);
  EXPECT_TRUE(bit_equal(q, Tensor::from_vector({7}, {0.0f, -0.0f, 1, 1, -1, 0, 0})));
  const Tensor codes = quantize_strict_i8(U, 1.0f);
  const int8_t expected[7] = {0, 0, 1, 1, -1, 0, 0};
  EXPECT_EQ(std::memcmp(codes.data<int8_t>(), expected, 7), 0);
}

TEST(Ternary, ThresholdIsStrictlyGreater) {
  const Tensor U = Tensor::from_vector({5}, {0.7f, -0.7f, 0.71f, -2.0f, -0.0f});
  const Tensor q = quantize_threshold(U, 1.0f, 0.7);
  // sign(U) * keep: a dropped negative is -0.0, and sign(-0.0) is +0.
  EXPECT_TRUE(bit_equal(q, Tensor::from_vector({5}, {0.0f, -0.0f, 1, -1, 0.0f})));
  const Tensor all = quantize_threshold(U, 1.0f, 0.0);
  EXPECT_TRUE(bit_equal(all, Tensor::from_vector({5}, {1, -1, 1, -1, 0.0f})));
}

TEST(Ternary, GammaIsRaisedToFloatEpsilon) {
  EXPECT_EQ(safe_gamma(0.0f), std::numeric_limits<float>::epsilon());
  EXPECT_EQ(safe_gamma(-1.0f), std::numeric_limits<float>::epsilon());
  EXPECT_EQ(safe_gamma(0.25f), 0.25f);
  // With gamma 0 the scale is 1.19e-7: 1e-8 rounds to 0, 1e-7 (0.84 of it) to 1.
  const Tensor U = Tensor::from_vector({4}, {1e-8f, 1e-7f, -1e-6f, 0.0f});
  EXPECT_TRUE(test::all_equal(quantize_strict(U, 0.0f), Tensor::from_vector({4}, {0, 1, -1, 0})));
  // Threshold limit 0.5 * eps = 5.96e-8.
  EXPECT_TRUE(
      test::all_equal(quantize_threshold(U, 0.0f, 0.5), Tensor::from_vector({4}, {0, 1, -1, 0})));
}

// Large tensors take the parallel path; it must equal quantizing the pieces one by one.
TEST(Ternary, ParallelPathEqualsPiecewise) {
  const int64_t n = 300001, piece = 1000;
  Tensor U({n});
  Rng rng(5);
  rng.fill_normal(U, 0.0, 0.05);
  const Tensor whole = quantize_threshold_i8(U, 0.04f, 0.7);
  const Tensor strict = quantize_strict(U, 0.04f);
  for (int64_t start = 0; start < n; start += piece) {
    const int64_t len = std::min(piece, n - start);
    Tensor part({len});
    std::memcpy(part.f32(), U.f32() + start, len * sizeof(float));
    const Tensor codes = quantize_threshold_i8(part, 0.04f, 0.7);
    ASSERT_EQ(std::memcmp(codes.data<int8_t>(), whole.data<int8_t>() + start, len), 0) << start;
    const Tensor values = quantize_strict(part, 0.04f);
    ASSERT_EQ(std::memcmp(values.f32(), strict.f32() + start, len * sizeof(float)), 0) << start;
  }
}

TEST(Ternary, Errors) {
  const Tensor U = Tensor::from_vector({2}, {1, 2});
  expect_error([&] { quantize_threshold(U, 1.0f, -0.1); }, "alpha must be >= 0, got -0.1");
  expect_error([&] { quantize_threshold_i8(U, 1.0f, -1.0); }, "alpha must be >= 0, got -1");
  expect_error([] { quantize_strict(Tensor({0}), 1.0f); }, "non-empty");
  expect_error([] { quantize_strict_i8(Tensor({2}, DType::f64), 1.0f); },
               "float32 tensor, got f64");
}

// ---- ternary stats and entropy ----

TEST(TernaryStats, CountsBothDtypes) {
  const Tensor q = Tensor::from_vector({4}, {1, 0, -1, -0.0f});
  const TernaryStats s = ternary_stats(q);
  EXPECT_EQ(s.zero_ratio, 0.5);
  EXPECT_EQ(s.plus_ratio, 0.25);
  EXPECT_EQ(s.minus_ratio, 0.25);
  EXPECT_DOUBLE_EQ(s.effective_bits, 1.5);
  const TernaryStats c = ternary_stats(q.to(DType::i8));
  EXPECT_EQ(c.zero_ratio, 0.5);
  EXPECT_DOUBLE_EQ(c.effective_bits, 1.5);
}

TEST(TernaryStats, EntropyBounds) {
  EXPECT_DOUBLE_EQ(entropy_from_ratios(1.0 / 3, 1.0 / 3, 1.0 / 3), kMaxEffectiveBits);
  EXPECT_NEAR(kMaxEffectiveBits, 1.5849625007211562, 1e-15);
  EXPECT_EQ(entropy_from_ratios(1.0, 0.0, 0.0), 0.0);
  EXPECT_DOUBLE_EQ(entropy_from_ratios(0.0, 0.5, 0.5), 1.0);
  // Within 1e-6 of 1 is accepted.
  EXPECT_NO_THROW(entropy_from_ratios(0.5, 0.25, 0.25 + 9e-7));
}

TEST(TernaryStats, Errors) {
  expect_error([] { entropy_from_ratios(-0.1, 0.6, 0.5); }, "ternary ratios must be non-negative");
  expect_error([] { entropy_from_ratios(0.5, 0.25, 0.2); }, "ternary ratios must sum to 1");
  expect_error([] { entropy_from_ratios(0.5, 0.25, 0.25 + 2e-6); }, "must sum to 1");
  expect_error([] { ternary_stats(Tensor({0}, DType::i8)); }, "non-empty");
  expect_error([] { ternary_stats(Tensor({2}, DType::i32)); }, "f32 or i8 tensor, got i32");
}

// ---- target bits ----

TEST(TargetBits, WorkedExample) {
  EXPECT_NEAR(zero_ratio_for_entropy(1.32, Branch::sparse), 0.63038, 1e-5);
  EXPECT_NEAR(zero_ratio_for_entropy(1.32, Branch::dense), 0.0791, 1e-4);
}

TEST(TargetBits, InvertsTheSymmetricEntropy) {
  for (double h : {0.0, 0.3, 1.0, 1.32, 1.5, kMaxEffectiveBits}) {
    const double z = zero_ratio_for_entropy(h, Branch::sparse);
    EXPECT_GE(z, 1.0 / 3 - 1e-12);
    EXPECT_NEAR(entropy_from_ratios(z, (1 - z) / 2, (1 - z) / 2), h, 1e-9) << "sparse h " << h;
    if (h < 1.0) continue;
    const double d = zero_ratio_for_entropy(h, Branch::dense);
    EXPECT_LE(d, 1.0 / 3 + 1e-12);
    EXPECT_NEAR(entropy_from_ratios(d, (1 - d) / 2, (1 - d) / 2), h, 1e-9) << "dense h " << h;
  }
  EXPECT_NEAR(zero_ratio_for_entropy(0.0, Branch::sparse), 1.0, 1e-12);
  EXPECT_NEAR(zero_ratio_for_entropy(1.0, Branch::dense), 0.0, 1e-12);
}

TEST(TargetBits, BranchNamesRoundTrip) {
  EXPECT_EQ(parse_branch("sparse"), Branch::sparse);
  EXPECT_EQ(parse_branch("dense"), Branch::dense);
  EXPECT_STREQ(branch_name(Branch::sparse), "sparse");
  EXPECT_STREQ(branch_name(Branch::dense), "dense");
}

TEST(TargetBits, Errors) {
  expect_error([] { zero_ratio_for_entropy(-0.1, Branch::sparse); }, "must be in [0, log2(3)");
  expect_error([] { zero_ratio_for_entropy(1.6, Branch::sparse); }, "got 1.6");
  expect_error([] { zero_ratio_for_entropy(0.9, Branch::dense); },
               "dense branch cannot reach entropy below 1 bit");
  expect_error([] { parse_branch("x"); }, "branch must be 'sparse' or 'dense', got 'x'");
}

// ---- controller ----

TEST(Controller, DefaultsFollowTheSpec) {
  const TargetBitsController c;
  const ControllerSettings& s = c.settings();
  EXPECT_EQ(s.target_bits, 1.32);
  EXPECT_EQ(s.branch, Branch::sparse);
  EXPECT_FALSE(s.target_zero_ratio.has_value());
  EXPECT_EQ(s.tolerance, 0.02);
  EXPECT_EQ(s.step_size, 0.05);
  EXPECT_EQ(s.alpha_min, 0.0);
  EXPECT_EQ(s.alpha_max, 1.5);
  EXPECT_NEAR(c.target_zero_ratio(), 0.63038, 1e-5);
}

TEST(Controller, StepsWithinToleranceAndClips) {
  ControllerSettings s;
  s.target_zero_ratio = 0.5;
  s.alpha_min = 0.2;
  s.alpha_max = 1.0;
  const TargetBitsController c(s);
  EXPECT_EQ(c.target_zero_ratio(), 0.5);
  EXPECT_DOUBLE_EQ(c.update(0.7, 0.4), 0.75);  // too few zeros: alpha rises
  EXPECT_DOUBLE_EQ(c.update(0.7, 0.6), 0.65);  // too many zeros: alpha falls
  EXPECT_EQ(c.update(0.7, 0.515), 0.7);        // within tolerance: unchanged
  EXPECT_EQ(c.update(0.98, 0.0), 1.0);         // clipped to alpha_max
  EXPECT_EQ(c.update(0.21, 1.0), 0.2);         // clipped to alpha_min
  EXPECT_EQ(c.update(5.0, 0.5), 1.0);          // an out-of-range alpha is clipped too
}

TEST(Controller, DenseBranchTarget) {
  ControllerSettings s;
  s.branch = Branch::dense;
  EXPECT_NEAR(TargetBitsController(s).target_zero_ratio(), 0.0791, 1e-4);
}

TEST(Controller, Errors) {
  const auto with = [](auto change) {
    ControllerSettings s;
    change(s);
    return [s] { TargetBitsController c(s); };
  };
  expect_error(with([](ControllerSettings& s) { s.target_bits = -1; }), "target_bits must be >= 0");
  expect_error(with([](ControllerSettings& s) { s.tolerance = -0.1; }), "tolerance must be >= 0");
  expect_error(with([](ControllerSettings& s) { s.step_size = -0.1; }), "step_size must be >= 0");
  expect_error(with([](ControllerSettings& s) { s.alpha_max = -1; }),
               "alpha_max must be >= alpha_min");
  expect_error(with([](ControllerSettings& s) { s.target_zero_ratio = 1.5; }),
               "target_zero_ratio must be in [0, 1], got 1.5");
  expect_error(with([](ControllerSettings& s) { s.target_zero_ratio = -0.1; }),
               "target_zero_ratio must be in [0, 1]");
  expect_error(with([](ControllerSettings& s) { s.target_bits = 2.0; }), "log2(3)");
  expect_error(with([](ControllerSettings& s) {
                 s.branch = Branch::dense;
                 s.target_bits = 0.5;
               }),
               "dense branch");
  const TargetBitsController c;
  expect_error([&] { c.update(0.7, 1.5); }, "zero_ratio must be in [0, 1], got 1.5");
  expect_error([&] { c.update(0.7, -0.01); }, "zero_ratio must be in [0, 1]");
}

}  // namespace
}  // namespace chimera
