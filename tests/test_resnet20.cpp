// The CIFAR ResNet-20 against the reference: one train-mode forward/backward from the reference's
// own initial state dict (logits, loss, every gradient, buffers after it, eval logits), four
// training steps with Chimera21 and batch-frequency alpha_override control, and the model's
// layout, stats, evaluation purity and checkpoint round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "golden.h"
#include "model/models/resnet20.h"
#include "train/optim/chimera21.h"
#include "train/trainer/alpha_control.h"
#include "train/trainer/train_step.h"
#include "test_util.h"

namespace chimera {
namespace {

using nlohmann::json;

// Logits, losses and gradients of the whole network (README: BatchNorm reductions reorder sums).
constexpr double kNetTol = 1e-4;

struct GoldenCase {
  json params;
  Safetensors st;
};

GoldenCase load_case(const std::string& name) {
  GoldenCase c{json(), test::load_golden(name)};
  c.params = json::parse(c.st.metadata.at("params"));
  return c;
}

// Entries named "<prefix><key>", keyed by <key>.
std::map<std::string, Tensor> with_prefix(const Safetensors& st, const std::string& prefix) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : st.tensors)
    if (name.rfind(prefix, 0) == 0) out[name.substr(prefix.size())] = t;
  return out;
}

ResNet20Options options_from(const json& p) {
  ResNet20Options o;  // layer settings as configs/default.yaml, which equals the defaults
  o.mode = parse_model_mode(p.at("mode").get<std::string>());
  o.first_last_fp32 = p.value("first_last_fp32", false);
  o.layer.activation_grad = p.at("grad_variant").get<std::string>() == "seed" ? ActivationGrad::none
                                                                              : ActivationGrad::ste;
  return o;
}

ChimeraResNet20 model_from(const GoldenCase& c) {
  Rng rng(1);  // replaced by the reference's state dict
  ChimeraResNet20 model(options_from(c.params), rng);
  model.load_state_dict(with_prefix(c.st, "init."));
  return model;
}

// The largest |actual - expected| over the largest |expected|: the error relative to the
// tensor's scale, which is what a 1e-4 tolerance on a whole network's outputs means.
double scaled_error(const Tensor& actual, const Tensor& expected) {
  const Tensor a = actual.to(DType::f64), e = expected.to(DType::f64);
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    diff = std::max(diff, std::fabs(a.data<double>()[i] - e.data<double>()[i]));
    scale = std::max(scale, std::fabs(e.data<double>()[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

::testing::AssertionResult close_to_scale(const std::string& what, const Tensor& actual,
                                          const Tensor& expected, double& worst) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << what << ": shape " << shape_str(actual.shape())
                                         << " vs expected " << shape_str(expected.shape());
  const double err = scaled_error(actual, expected);
  worst = std::max(worst, err);
  if (err <= kNetTol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": error " << err << " relative to its scale";
}

void check_one_step(const std::string& file) {
  const GoldenCase c = load_case(file);
  const bool seed_variant = c.params.at("grad_variant") == "seed";
  ChimeraResNet20 model = model_from(c);
  const Tensor& x = c.st.at("x");
  const Tensor& labels = c.st.at("labels");

  model.train();
  const Var logits = model.forward(Var(x));
  const Var loss = cross_entropy(logits, labels);
  backward(loss);
  double worst_logits = 0, worst_grad = 0, worst_buffer = 0, worst_eval = 0;
  EXPECT_TRUE(
      close_to_scale("train.logits", logits.value(), c.st.at("train.logits"), worst_logits));
  EXPECT_TRUE(test::all_close(loss.value(), c.st.at("train.loss"), kNetTol, 0.0));

  // Every parameter's gradient; one the backward never reached is zero.
  int64_t grads = 0, zero_conv_grads = 0;
  model.visit(
      [&](const std::string& name, Var& p) {
        const Tensor got = p.has_grad() ? p.grad() : Tensor::zeros_like(p.value());
        const Tensor& want = c.st.at("train.grad." + name);
        EXPECT_TRUE(close_to_scale("grad " + name, got, want, worst_grad));
        if (seed_variant && c.params.at("mode") != "fp32_baseline" && got.dim() == 4) {
          // The activation rounding blocks every path into a conv: exactly zero, as the reference.
          EXPECT_TRUE(test::all_equal(want, Tensor::zeros_like(want))) << name;
          EXPECT_TRUE(test::all_equal(got, Tensor::zeros_like(got))) << name;
          ++zero_conv_grads;
        }
        ++grads;
      },
      [](const std::string&, Tensor&) {});
  EXPECT_EQ(grads, static_cast<int64_t>(with_prefix(c.st, "train.grad.").size()));
  if (seed_variant && c.params.at("mode") != "fp32_baseline") {
    EXPECT_EQ(zero_conv_grads, 21);
  }

  // Buffers after the step: counters exact, scale_ema to float rounding, BN running stats 1e-4.
  const std::map<std::string, Tensor> state = model.state_dict();
  const std::map<std::string, Tensor> after = with_prefix(c.st, "after.");
  EXPECT_FALSE(after.empty());
  for (const auto& [name, want] : after) {
    ASSERT_TRUE(state.count(name)) << name;
    const Tensor& got = state.at(name);
    if (want.dtype() == DType::i64)
      EXPECT_TRUE(test::all_equal(got, want)) << name;
    else if (name.find("scale_ema") != std::string::npos)
      EXPECT_TRUE(test::all_close(got, want, 1e-6, 0.0)) << name;
    else
      EXPECT_TRUE(close_to_scale(name, got, want, worst_buffer));
  }

  model.eval();
  {
    NoGradGuard no_grad;
    const Var eval_logits = model.forward(Var(x));
    EXPECT_TRUE(
        close_to_scale("eval.logits", eval_logits.value(), c.st.at("eval.logits"), worst_eval));
  }
  std::printf(
      "%s: worst error relative to scale: logits %.2e, grads %.2e, running stats %.2e, "
      "eval logits %.2e, loss %.2e\n",
      file.c_str(), worst_logits, worst_grad, worst_buffer, worst_eval,
      std::fabs(loss.value().item() - c.st.at("train.loss").item()) /
          std::fabs(c.st.at("train.loss").item()));
}

TEST(ResNet20Golden, Fp32BaselineOneStep) {
  check_one_step("resnet20_fp32_baseline_seed");
}
TEST(ResNet20Golden, StrictBitnetSeedOneStep) {
  check_one_step("resnet20_strict_bitnet_seed");
}
TEST(ResNet20Golden, StrictBitnetSteOneStep) {
  check_one_step("resnet20_strict_bitnet_ste");
}
TEST(ResNet20Golden, ChimeraSeedOneStep) {
  check_one_step("resnet20_chimera_seed");
}
TEST(ResNet20Golden, ChimeraSteOneStep) {
  check_one_step("resnet20_chimera_ste");
}

// Four steps of SPEC §5's batch loop: Chimera21, alpha_override initialised to alpha_target and
// moved by the controller after every step.
void check_trajectory(const std::string& file) {
  const GoldenCase c = load_case(file);
  ChimeraResNet20 model = model_from(c);
  model.set_alpha_override(model.options().layer.alpha_target);
  Chimera21Options opt;
  opt.lr = c.params.at("lr").get<double>();
  Chimera21 optimizer(model.parameters(), opt);
  const TargetBitsController controller;  // target_bits 1.32, sparse branch, as the file says
  const int64_t steps = c.params.at("steps").get<int64_t>();
  const Tensor losses = c.st.at("losses"), zeros = c.st.at("global_zero_ratio"),
               alphas = c.st.at("alpha_after_control");
  ASSERT_EQ(losses.numel(), steps);
  double worst_loss = 0;
  for (int64_t s = 0; s < steps; ++s) {
    const std::string prefix = "step" + std::to_string(s) + ".";
    const TrainStepResult r =
        train_step(model, optimizer, c.st.at(prefix + "x"), c.st.at(prefix + "labels"));
    const AlphaControlResult control =
        apply_alpha_control(model.quantized_layers(), controller, r.stats.global_zero_ratio,
                            ControllerAffects::alpha_override);
    const double want_loss = losses.data<double>()[s];
    worst_loss = std::max(worst_loss, std::fabs(r.loss - want_loss) / std::fabs(want_loss));
    EXPECT_NEAR(r.loss, want_loss, 1e-3 * std::fabs(want_loss)) << "step " << s;
    EXPECT_NEAR(r.stats.global_zero_ratio, zeros.data<double>()[s], 1e-12) << "step " << s;
    EXPECT_NEAR(control.alpha_next_mean, alphas.data<double>()[s], 1e-12) << "step " << s;
    for (TernaryLayer* layer : model.quantized_layers())
      EXPECT_NEAR(*layer->quant.options.alpha_override, alphas.data<double>()[s], 1e-12);
  }
  double worst_fc = 0;
  EXPECT_TRUE(close_to_scale("final fc", model.fc.ternary->weight_master.value(),
                             c.st.at("final.fc.weight_master"), worst_fc));
  std::printf("%s: worst relative loss error %.2e, final fc weight error %.2e\n", file.c_str(),
              worst_loss, worst_fc);
}

TEST(ResNet20Golden, ChimeraSeedTrajectory) {
  check_trajectory("traj_resnet20_chimera_seed");
}
TEST(ResNet20Golden, ChimeraSteTrajectory) {
  check_trajectory("traj_resnet20_chimera_ste");
}

ChimeraResNet20 make_model(ModelMode mode, bool first_last_fp32 = false, uint64_t seed = 3) {
  ResNet20Options o;
  o.mode = mode;
  o.first_last_fp32 = first_last_fp32;
  Rng rng(seed);
  return ChimeraResNet20(o, rng);
}

Tensor random_images(int64_t n, uint64_t seed) {
  Tensor x({n, 3, 32, 32});
  Rng rng(seed);
  rng.fill_normal(x);
  return x;
}

Tensor labels_of(std::vector<int64_t> values) {
  Tensor t({static_cast<int64_t>(values.size())}, DType::i64);
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

std::set<std::string> keys_of(const std::map<std::string, Tensor>& m) {
  std::set<std::string> keys;
  for (const auto& [k, v] : m) keys.insert(k);
  return keys;
}

TEST(ResNet20, StateDictNamesMatchTheReference) {
  for (const char* file : {"resnet20_fp32_baseline_seed", "resnet20_chimera_ste"}) {
    const GoldenCase c = load_case(file);
    ChimeraResNet20 model = make_model(parse_model_mode(c.params.at("mode")));
    EXPECT_EQ(keys_of(model.state_dict()), keys_of(with_prefix(c.st, "init."))) << file;
  }
  ChimeraResNet20 mixed = make_model(ModelMode::strict_bitnet, true);
  const auto state = mixed.state_dict();
  for (const char* name : {"conv1.weight", "fc.weight", "fc.bias", "layer1.0.conv1.weight_master",
                           "layer3.0.shortcut.0.weight_master", "layer3.0.shortcut.0.scale_ema",
                           "layer3.0.shortcut.1.running_var", "layer2.2.bn2.num_batches_tracked"})
    EXPECT_TRUE(state.count(name)) << name;
  EXPECT_FALSE(state.count("conv1.scale_ema"));
  EXPECT_FALSE(state.count("layer1.0.shortcut.0.weight_master"));  // identity shortcut
  EXPECT_EQ(state.at("layer2.2.bn2.num_batches_tracked").dtype(), DType::i64);
  EXPECT_EQ(state.at("layer2.2.bn2.num_batches_tracked").dim(), 0);
  EXPECT_EQ(state.at("layer1.1.conv2.forward_step").dim(), 0);
}

TEST(ResNet20, QuantizedLayersInModuleOrderClassifierLast) {
  ChimeraResNet20 model = make_model(ModelMode::chimera);
  const auto& layers = model.quantized_layers();
  ASSERT_EQ(layers.size(), 22u);  // stem, 18 block convs, 2 shortcuts, classifier
  EXPECT_EQ(layers.front(), model.conv1.ternary.get());
  EXPECT_EQ(layers[1], model.layer1[0]->conv1.ternary.get());
  EXPECT_EQ(layers[8], model.layer2[0]->conv2.ternary.get());
  EXPECT_EQ(layers[9], model.layer2[0]->shortcut_conv->ternary.get());
  EXPECT_EQ(layers.back(), model.fc.ternary.get());
  int64_t weights = 0;
  for (const TernaryLayer* l : layers) weights += l->weight_master.numel();
  EXPECT_EQ(weights, 270896);
  EXPECT_EQ(make_model(ModelMode::chimera, true).quantized_layers().size(), 20u);
  EXPECT_TRUE(make_model(ModelMode::fp32_baseline).quantized_layers().empty());
  ChimeraResNet20 strict = make_model(ModelMode::strict_bitnet);
  for (const TernaryLayer* l : strict.quantized_layers())
    EXPECT_EQ(l->quant.options.quant_mode, QuantMode::strict_bitnet);
}

TEST(ResNet20, InitialisationFollowsPyTorch) {
  ChimeraResNet20 model = make_model(ModelMode::fp32_baseline);
  const Tensor w = model.layer2[0]->conv2.plain->weight.value();  // fan_in 32 * 9
  const float bound = 1.0f / std::sqrt(288.0f);
  float lo = 1, hi = -1;
  for (int64_t i = 0; i < w.numel(); ++i) {
    lo = std::min(lo, w.f32()[i]);
    hi = std::max(hi, w.f32()[i]);
  }
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.9f * bound);  // the whole range is used
  EXPECT_GT(hi, 0.9f * bound);
  EXPECT_FALSE(model.layer1[0]->conv1.plain->bias.has_value());
  const BatchNorm2d& bn = model.layer3[1]->bn1;
  EXPECT_TRUE(test::all_equal(bn.weight.value(), Tensor::full({64}, 1.0f)));
  EXPECT_TRUE(test::all_equal(bn.bias.value(), Tensor::zeros({64})));
  EXPECT_TRUE(test::all_equal(bn.state.running_var, Tensor::full({64}, 1.0f)));
  // Same seed, same weights; another seed, other weights.
  EXPECT_TRUE(
      test::all_equal(make_model(ModelMode::chimera, false, 5).fc.ternary->weight_master.value(),
                      make_model(ModelMode::chimera, false, 5).fc.ternary->weight_master.value()));
  EXPECT_FALSE(
      test::all_equal(make_model(ModelMode::chimera, false, 5).fc.ternary->weight_master.value(),
                      make_model(ModelMode::chimera, false, 6).fc.ternary->weight_master.value()));
}

TEST(ResNet20, EvaluationChangesNoState) {
  ChimeraResNet20 model = make_model(ModelMode::chimera);
  Chimera21 optimizer(model.parameters());
  train_step(model, optimizer, random_images(4, 1), labels_of({0, 1, 2, 3}));
  std::map<std::string, Tensor> before;
  for (const auto& [k, v] : model.state_dict()) before[k] = v.clone();
  model.eval();
  for (TernaryLayer* l : model.quantized_layers()) EXPECT_FALSE(l->training());
  {
    NoGradGuard no_grad;
    model.forward(Var(random_images(3, 2)));
  }
  for (const auto& [k, v] : model.state_dict()) EXPECT_TRUE(test::all_equal(v, before.at(k))) << k;
  EXPECT_EQ(model.quantized_layers()[3]->quant.forward_step.item(), 1);
}

// Inference fuses BatchNorm, the residual add and ReLU into the ternary convolutions' epilogue
// (no gradient recorded); with gradients recorded the same eval forward runs the ops one by
// one. The logits must be the same bits, for both ternary modes and with fp32 first/last layers.
TEST(ResNet20, FusedInferenceEqualsUnfusedOpsBitForBit) {
  for (const auto& [mode, first_last] : {std::pair{ModelMode::chimera, false},
                                         std::pair{ModelMode::strict_bitnet, false},
                                         std::pair{ModelMode::chimera, true}}) {
    SCOPED_TRACE(std::string(model_mode_name(mode)) + (first_last ? " first_last_fp32" : ""));
    ChimeraResNet20 model = make_model(mode, first_last, 9);
    Chimera21 optimizer(model.parameters());
    for (int step = 0; step < 2; ++step)  // BatchNorm running statistics away from 0 and 1
      train_step(model, optimizer, random_images(6, 10 + step), labels_of({0, 1, 2, 3, 4, 5}));
    model.eval();
    const Tensor x = random_images(5, 12);
    Tensor fused;
    {
      NoGradGuard no_grad;
      fused = model.forward(Var(x)).value();
    }
    const Tensor unfused = model.forward(Var(x)).value();
    EXPECT_TRUE(test::all_equal(fused, unfused));
    float largest = 0.0f;
    for (int64_t i = 0; i < fused.numel(); ++i) largest = std::max(largest, std::fabs(fused.f32()[i]));
    EXPECT_GT(largest, 0.0f);
  }
}

TEST(ResNet20, StateDictRoundTripThroughSafetensors) {
  ChimeraResNet20 model = make_model(ModelMode::chimera, false, 3);
  Chimera21 optimizer(model.parameters());
  train_step(model, optimizer, random_images(4, 1), labels_of({5, 6, 7, 8}));
  const test::TempDir dir("chimera_test_resnet20_roundtrip");
  const std::string path = (dir.path / "model.safetensors").string();
  write_safetensors(path, model.state_dict());
  ChimeraResNet20 loaded = make_model(ModelMode::chimera, false, 99);
  loaded.load_state_dict(read_safetensors(path).tensors);
  const auto a = model.state_dict(), b = loaded.state_dict();
  ASSERT_EQ(keys_of(a), keys_of(b));
  for (const auto& [k, v] : a) {
    EXPECT_EQ(v.dtype(), b.at(k).dtype()) << k;
    EXPECT_TRUE(test::all_equal(b.at(k), v)) << k;
  }
  model.eval();
  loaded.eval();
  NoGradGuard no_grad;
  const Tensor x = random_images(2, 4);
  EXPECT_TRUE(test::all_equal(loaded.forward(Var(x)).value(), model.forward(Var(x)).value()));
  // A checkpoint of another mode does not fit.
  ChimeraResNet20 plain = make_model(ModelMode::fp32_baseline);
  EXPECT_THROW(plain.load_state_dict(a), Error);
}

TEST(ResNet20, StatsWeightLayersByWeightCount) {
  ChimeraResNet20 model = make_model(ModelMode::chimera);
  model.set_alpha_override(0.0);                         // every nonzero weight stays nonzero
  model.fc.ternary->quant.options.alpha_override = 1e6;  // the classifier all zeros
  model.eval();
  {
    NoGradGuard no_grad;
    model.forward(Var(random_images(2, 5)));
  }
  const ModelStats s = model.stats();
  EXPECT_DOUBLE_EQ(s.global_zero_ratio, 640.0 / 270896.0);
  EXPECT_DOUBLE_EQ(s.unweighted_mean_zero_ratio, 1.0 / 22.0);
  EXPECT_NEAR(s.global_plus_ratio + s.global_minus_ratio + s.global_zero_ratio, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(
      s.global_effective_bits,
      entropy_from_ratios(s.global_zero_ratio, s.global_plus_ratio, s.global_minus_ratio));
  // 21 layers at about one bit (no zeros), the classifier at zero bits.
  EXPECT_NEAR(s.unweighted_mean_effective_bits, 21.0 / 22.0, 0.01);
  EXPECT_DOUBLE_EQ(s.alpha_used_mean, 1e6 / 22.0);
  EXPECT_DOUBLE_EQ(s.alpha_target_mean, 0.7);
  double gamma = 0;
  for (const TernaryLayer* l : model.quantized_layers()) gamma += l->quant.gamma();
  EXPECT_NEAR(s.gamma, gamma / 22.0, 1e-9);
  model.set_alpha_target(0.5);
  EXPECT_DOUBLE_EQ(model.stats().alpha_target_mean, 0.5);

  const ModelStats none = make_model(ModelMode::fp32_baseline).stats();
  EXPECT_EQ(none.global_zero_ratio, 0.0);
  EXPECT_EQ(none.global_effective_bits, 0.0);
  EXPECT_EQ(none.alpha_target_mean, 0.0);
}

TEST(ResNet20, WarmupAppliesUntilAnOverrideIsSet) {
  ChimeraResNet20 model = make_model(ModelMode::chimera);
  Chimera21 optimizer(model.parameters());
  const TrainStepResult first =
      train_step(model, optimizer, random_images(2, 6), labels_of({1, 2}));
  EXPECT_DOUBLE_EQ(first.stats.alpha_used_mean, 0.0);  // first warmup forward: alpha_min
  model.set_alpha_override(0.9);
  const TrainStepResult second =
      train_step(model, optimizer, random_images(2, 7), labels_of({3, 4}));
  EXPECT_DOUBLE_EQ(second.stats.alpha_used_mean, 0.9);
  EXPECT_TRUE(std::isfinite(second.loss));
  model.set_alpha_override(std::nullopt);
  EXPECT_NEAR(model.quantized_layers()[0]->quant.current_alpha(), 0.7 * 2.0 / 99.0, 1e-12);
}

TEST(ResNet20, SteReachesEveryParameterAndNoneOnlyTheClassifier) {
  for (ActivationGrad grad : {ActivationGrad::ste, ActivationGrad::none}) {
    ResNet20Options o;
    o.layer.activation_grad = grad;
    Rng rng(8);
    ChimeraResNet20 model(o, rng);
    backward(cross_entropy(model.forward(Var(random_images(2, 9))), labels_of({0, 9})));
    model.visit(
        [&](const std::string& name, Var& p) {
          const bool classifier = name.rfind("fc.", 0) == 0;
          EXPECT_EQ(p.has_grad(), grad == ActivationGrad::ste || classifier) << name;
        },
        [](const std::string&, Tensor&) {});
  }
}

TEST(ResNet20, RejectsBadInputAndSettings) {
  ChimeraResNet20 model = make_model(ModelMode::chimera);
  try {
    model.forward(Var(Tensor({2, 1, 32, 32})));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("expected images [batch, 3, height, width], got [2, 1, 32, 32]"),
        std::string::npos)
        << e.what();
  }
  EXPECT_THROW(model.forward(Var(Tensor({3, 32, 32}))), Error);
  EXPECT_THROW(model.set_alpha_override(-0.1), Error);
  EXPECT_THROW(model.set_alpha_target(-1.0), Error);
  EXPECT_THROW(parse_model_mode("bitnet"), Error);
  EXPECT_EQ(parse_model_mode(model_mode_name(ModelMode::strict_bitnet)), ModelMode::strict_bitnet);
  ResNet20Options bad;
  bad.layer.rho_s = 2.0;
  Rng rng(1);
  EXPECT_THROW(ChimeraResNet20(bad, rng), Error);
  bad = ResNet20Options{};
  bad.num_classes = 0;
  EXPECT_THROW(ChimeraResNet20(bad, rng), Error);
}

TEST(AlphaControl, MovesOverrideOrTargetOnEveryLayer) {
  ChimeraResNet20 model = make_model(ModelMode::chimera);
  const TargetBitsController controller;  // target zero ratio ~0.63038, tolerance 0.02, step 0.05
  const auto& layers = model.quantized_layers();
  // Too few zeros: alpha rises. No override yet: it starts from alpha_target.
  AlphaControlResult r =
      apply_alpha_control(layers, controller, 0.2, ControllerAffects::alpha_override);
  EXPECT_NEAR(r.alpha_next_mean, 0.75, 1e-12);
  EXPECT_NEAR(r.delta, 0.05, 1e-12);
  EXPECT_NEAR(r.error, 0.2 - controller.target_zero_ratio(), 1e-15);
  for (TernaryLayer* l : layers) {
    EXPECT_NEAR(*l->quant.options.alpha_override, 0.75, 1e-12);
    EXPECT_DOUBLE_EQ(l->quant.options.alpha_target, 0.7);
  }
  // Too many zeros: alpha_target falls, the override is left alone.
  r = apply_alpha_control(layers, controller, 0.9, ControllerAffects::alpha_target);
  EXPECT_NEAR(r.alpha_next_mean, 0.65, 1e-12);
  EXPECT_NEAR(r.delta, -0.05, 1e-12);
  EXPECT_NEAR(layers[5]->quant.options.alpha_target, 0.65, 1e-12);
  EXPECT_NEAR(*layers[5]->quant.options.alpha_override, 0.75, 1e-12);
  // Within tolerance: nothing moves.
  r = apply_alpha_control(layers, controller, controller.target_zero_ratio() + 0.01,
                          ControllerAffects::alpha_override);
  EXPECT_DOUBLE_EQ(r.delta, 0.0);
  // No quantized layers: nothing to do.
  r = apply_alpha_control({}, controller, 0.2, ControllerAffects::alpha_target);
  EXPECT_EQ(r.alpha_next_mean, 0.0);
  EXPECT_EQ(r.error, 0.0);
  EXPECT_THROW(apply_alpha_control(layers, controller, 1.5, ControllerAffects::alpha_target),
               Error);
  EXPECT_THROW(parse_controller_affects("alpha"), Error);
  EXPECT_EQ(parse_controller_affects("alpha_override"), ControllerAffects::alpha_override);
}

TEST(TrainStep, CountsCorrectPredictions) {
  const Tensor logits = Tensor::from_vector({3, 3}, {0, 2, 1, 5, 5, 1, 0, 0, 0});
  EXPECT_EQ(count_correct(logits, labels_of({1, 0, 2})), 2);  // ties go to the first class
  EXPECT_THROW(count_correct(logits, labels_of({1, 0})), Error);
}

}  // namespace
}  // namespace chimera
