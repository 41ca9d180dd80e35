// Optimizers (SPEC §3) against the reference's golden trajectories, plus validation, state
// memory, lazily created state and bit-identical resume from a state dict.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/io/safetensors.h"
#include "engine/threads.h"
#include "golden.h"
#include "train/optim/adam.h"
#include "train/optim/chimera21.h"
#include "train/optim/sgd.h"
#include "train/optim/torch_numerics.h"

namespace chimera {
namespace {

using nlohmann::json;

// Every optimizer_*.safetensors the reference wrote; OptimizerGolden.ListCoversEveryFile keeps
// this list in step with the directory.
const std::vector<std::string> kGoldenCases = {
    "optimizer_adam",
    "optimizer_adamw",
    "optimizer_chimera21",
    "optimizer_chimera21_crossgate",
    "optimizer_chimera21_psi_int8",
    "optimizer_chimera21_sharp_gate",
    "optimizer_chimera21_weight_decay",
    "optimizer_chimera21_zero_decay",
    "optimizer_chimera21_zero_freeze",
    "optimizer_chimera21_zero_inertia",
    "optimizer_sgd_momentum",
};

const std::vector<std::string> kSpecDiagnosticOrder = {"mean_kappa",
                                                       "std_kappa",
                                                       "min_kappa",
                                                       "max_kappa",
                                                       "mean_noise_ratio",
                                                       "mean_effective_lr",
                                                       "active_mean_effective_lr",
                                                       "applied_update_norm",
                                                       "param_update_ratio",
                                                       "mean_update_abs",
                                                       "max_update_abs",
                                                       "zero_grad_ratio",
                                                       "active_grad_ratio",
                                                       "psi_abs_mean",
                                                       "psi_saturation_ratio",
                                                       "collision_score"};

// Row `index` of a tensor stacked along its first axis.
Tensor row(const Tensor& stacked, int64_t index) {
  Shape shape(stacked.shape().begin() + 1, stacked.shape().end());
  Tensor out(shape, stacked.dtype());
  const size_t bytes = out.nbytes();
  std::memcpy(out.raw(), static_cast<const char*>(stacked.raw()) + index * bytes, bytes);
  return out;
}

// Sets each golden kwarg on the options: numbers through `numbers`, the rest through `other`,
// which returns false for a name it does not know (an error: the case would not be reproduced).
template <class Other>
void apply_kwargs(const json& kwargs, const std::map<std::string, double*>& numbers, Other other) {
  for (const auto& [key, value] : kwargs.items()) {
    if (numbers.count(key))
      *numbers.at(key) = value;
    else if (!other(key, value))
      throw Error("golden case has an unknown setting '" + key + "'");
  }
}

Chimera21Options chimera_options(const json& kwargs) {
  Chimera21Options o;
  apply_kwargs(kwargs,
               {{"lr", &o.lr},
                {"beta1", &o.beta1},
                {"beta2", &o.beta2},
                {"eps_opt", &o.eps_opt},
                {"weight_decay", &o.weight_decay},
                {"rho_psi", &o.rho_psi},
                {"lambda_gate", &o.lambda_gate},
                {"kappa_min", &o.kappa_min},
                {"kappa_max", &o.kappa_max},
                {"idle_decay", &o.idle_decay},
                {"noise_threshold", &o.noise_threshold},
                {"gate_sharpness", &o.gate_sharpness}},
               [&](const std::string& key, const json& value) {
                 if (key == "log_diagnostics")
                   o.log_diagnostics = value.get<bool>();
                 else if (key == "zero_grad_policy")
                   o.zero_grad_policy = parse_zero_grad_policy(value);
                 else if (key == "kappa_gate_mode")
                   o.kappa_gate_mode = parse_kappa_gate_mode(value);
                 else if (key == "psi_storage")
                   o.psi_storage = parse_psi_storage(value);
                 else
                   return false;
                 return true;
               });
  return o;
}

AdamOptions adam_options(const json& kwargs, AdamOptions o) {
  apply_kwargs(kwargs, {{"lr", &o.lr}, {"eps", &o.eps}, {"weight_decay", &o.weight_decay}},
               [&](const std::string& key, const json& value) {
                 if (key != "betas") return false;
                 o.beta1 = value.at(0);
                 o.beta2 = value.at(1);
                 return true;
               });
  return o;
}

SgdOptions sgd_options(const json& kwargs) {
  SgdOptions o;
  apply_kwargs(kwargs,
               {{"lr", &o.lr},
                {"momentum", &o.momentum},
                {"dampening", &o.dampening},
                {"weight_decay", &o.weight_decay}},
               [&](const std::string& key, const json& value) {
                 if (key != "nesterov") return false;
                 o.nesterov = value.get<bool>();
                 return true;
               });
  return o;
}

std::unique_ptr<Optimizer> make(const std::string& name, const json& kwargs,
                                std::vector<Var> params) {
  if (name == "chimera21") return std::make_unique<Chimera21>(params, chimera_options(kwargs));
  if (name == "adam") return std::make_unique<Adam>(params, adam_options(kwargs, {}));
  if (name == "adamw")
    return std::make_unique<AdamW>(params, adam_options(kwargs, AdamW::defaults()));
  if (name == "sgd") return std::make_unique<Sgd>(params, sgd_options(kwargs));
  throw Error("golden case names an unknown optimizer '" + name + "'");
}

constexpr double kRtol = 1e-5, kAtol = 1e-6;

class OptimizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(OptimizerGolden, MatchesReferenceTrajectory) {
  const Safetensors golden = test::load_golden(GetParam());
  const json params = json::parse(golden.metadata.at("params"));
  const std::string optimizer = params.at("optimizer");
  const int64_t steps = params.at("steps");
  const std::vector<std::string> diagnostic_keys = params.at("diagnostic_keys");
  ASSERT_EQ(steps, 25);

  Var a(golden.at("p0.a").clone(), true), b(golden.at("p0.b").clone(), true);
  std::unique_ptr<Optimizer> opt = make(optimizer, params.at("kwargs"), {a, b});
  EXPECT_EQ(opt->name(), optimizer);
  const auto* chimera = dynamic_cast<const Chimera21*>(opt.get());
  const bool with_diagnostics = golden.has("diagnostics");
  ASSERT_EQ(with_diagnostics, !diagnostic_keys.empty());
  if (with_diagnostics) {
    ASSERT_TRUE(chimera && chimera->options().log_diagnostics);
  }

  for (int64_t s = 0; s < steps; ++s) {
    SCOPED_TRACE("step " + std::to_string(s + 1));
    a.grad() = row(golden.at("grads.a"), s);
    b.grad() = row(golden.at("grads.b"), s);
    opt->step();
    EXPECT_TRUE(test::all_close(a.value(), row(golden.at("expected.a"), s), kRtol, kAtol)) << "a";
    EXPECT_TRUE(test::all_close(b.value(), row(golden.at("expected.b"), s), kRtol, kAtol)) << "b";
    if (!with_diagnostics) continue;
    const Tensor expected = row(golden.at("diagnostics"), s);
    const auto& got = chimera->last_diagnostics();
    ASSERT_EQ(got.size(), diagnostic_keys.size());
    for (size_t k = 0; k < diagnostic_keys.size(); ++k) {
      const auto it = std::find_if(got.begin(), got.end(),
                                   [&](const auto& d) { return d.first == diagnostic_keys[k]; });
      ASSERT_NE(it, got.end()) << diagnostic_keys[k];
      const double want = expected.data<double>()[k];
      EXPECT_NEAR(it->second, want, kAtol + kRtol * std::fabs(want)) << diagnostic_keys[k];
    }
  }
  if (optimizer != "chimera21") return;
  for (const auto& [index, param] : {std::pair{0, "a"}, std::pair{1, "b"}}) {
    const ParamState* state = opt->state(index);
    ASSERT_NE(state, nullptr);
    EXPECT_EQ(state->step, steps);
    const std::string prefix = std::string("state.") + param + ".";
    EXPECT_TRUE(test::all_close(state->tensors.at("m"), golden.at(prefix + "m"), kRtol, kAtol));
    EXPECT_TRUE(test::all_close(state->tensors.at("v"), golden.at(prefix + "v"), kRtol, kAtol));
    const Tensor& psi = state->tensors.at("psi");
    ASSERT_EQ(psi.dtype(), golden.at(prefix + "psi").dtype());
    if (psi.dtype() == DType::i8)
      EXPECT_TRUE(test::all_equal(psi, golden.at(prefix + "psi")));
    else
      EXPECT_TRUE(test::all_close(psi, golden.at(prefix + "psi"), kRtol, kAtol));
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, OptimizerGolden, ::testing::ValuesIn(kGoldenCases),
                         [](const auto& info) { return info.param; });

TEST(OptimizerGoldenFiles, ListCoversEveryFile) {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(test::golden_dir())) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("optimizer_", 0) == 0 && entry.path().extension() == ".safetensors")
      on_disk.insert(entry.path().stem().string());
  }
  EXPECT_EQ(on_disk, std::set<std::string>(kGoldenCases.begin(), kGoldenCases.end()));
}

// ---- settings --------------------------------------------------------------------------------

void expect_error(const std::function<void()>& fn, const std::string& message) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
        << "got: " << e.what() << "\nexpected: " << message;
  }
}

TEST(Chimera21Options, DefaultsFollowTheSpec) {
  const Chimera21Options o;
  EXPECT_EQ(o.lr, 1e-3);
  EXPECT_EQ(o.beta1, 0.9);
  EXPECT_EQ(o.beta2, 0.999);
  EXPECT_EQ(o.eps_opt, 1e-8);
  EXPECT_EQ(o.weight_decay, 0.0);
  EXPECT_EQ(o.rho_psi, 0.95);
  EXPECT_EQ(o.lambda_gate, 0.1);
  EXPECT_EQ(o.kappa_min, 0.5);
  EXPECT_EQ(o.kappa_max, 2.0);
  EXPECT_FALSE(o.log_diagnostics);
  EXPECT_EQ(o.zero_grad_policy, ZeroGradPolicy::standard);
  EXPECT_EQ(o.idle_decay, 0.95);
  EXPECT_EQ(o.kappa_gate_mode, KappaGateMode::none);
  EXPECT_EQ(o.noise_threshold, 2.0);
  EXPECT_EQ(o.gate_sharpness, 4.0);
  EXPECT_EQ(o.psi_storage, PsiStorage::fp32);
  EXPECT_NO_THROW(o.validate());
}

TEST(Chimera21Options, EverySettingOutOfRangeIsAnError) {
  const std::vector<std::pair<std::function<void(Chimera21Options&)>, std::string>> cases = {
      {[](auto& o) { o.lr = -0.1; }, "lr must be >= 0, got -0.1"},
      {[](auto& o) { o.beta1 = 1.0; }, "beta1 must be in [0, 1), got 1"},
      {[](auto& o) { o.beta1 = -0.5; }, "beta1 must be in [0, 1), got -0.5"},
      {[](auto& o) { o.beta2 = 1.0; }, "beta2 must be in [0, 1), got 1"},
      {[](auto& o) { o.beta2 = NAN; }, "beta2 must be in [0, 1), got nan"},
      {[](auto& o) { o.eps_opt = 0.0; }, "eps_opt must be > 0, got 0"},
      {[](auto& o) { o.weight_decay = -1; }, "weight_decay must be >= 0, got -1"},
      {[](auto& o) { o.rho_psi = 1.5; }, "rho_psi must be in [0, 1], got 1.5"},
      {[](auto& o) { o.rho_psi = -0.1; }, "rho_psi must be in [0, 1], got -0.1"},
      {[](auto& o) { o.lambda_gate = INFINITY; }, "lambda_gate must be finite, got inf"},
      {[](auto& o) { o.kappa_min = 0.0; }, "kappa_min must be > 0, got 0"},
      {[](auto& o) { o.kappa_max = 0.4; }, "kappa_max must be >= kappa_min (0.5), got 0.4"},
      {[](auto& o) { o.idle_decay = 1.01; }, "idle_decay must be in [0, 1], got 1.01"},
      {[](auto& o) { o.noise_threshold = NAN; }, "noise_threshold must be finite, got nan"},
      {[](auto& o) { o.gate_sharpness = -1; }, "gate_sharpness must be >= 0, got -1"},
      {[](auto& o) { o.zero_grad_policy = static_cast<ZeroGradPolicy>(9); },
       "zero_grad_policy must be one of standard, freeze, decay, inertia"},
      {[](auto& o) { o.kappa_gate_mode = static_cast<KappaGateMode>(9); },
       "kappa_gate_mode must be one of none, noise_ratio"},
      {[](auto& o) { o.psi_storage = static_cast<PsiStorage>(9); },
       "psi_storage must be one of fp32, int8"},
  };
  for (const auto& [mutate, message] : cases) {
    Chimera21Options o;
    mutate(o);
    expect_error([&] { o.validate(); }, message);
    // The optimizer validates at construction.
    expect_error([&] { Chimera21({Var(Tensor({2}), true)}, o); }, message);
  }
  // The boundaries themselves are allowed.
  Chimera21Options edge;
  edge.lr = 0;
  edge.beta1 = edge.beta2 = 0;
  edge.rho_psi = 1;
  edge.idle_decay = 0;
  edge.kappa_min = edge.kappa_max = 1.0;
  edge.gate_sharpness = 0;
  EXPECT_NO_THROW(edge.validate());
}

TEST(Chimera21Options, EnumNamesParseBackAndUnknownNamesAreErrors) {
  for (auto p : {ZeroGradPolicy::standard, ZeroGradPolicy::freeze, ZeroGradPolicy::decay,
                 ZeroGradPolicy::inertia})
    EXPECT_EQ(parse_zero_grad_policy(zero_grad_policy_name(p)), p);
  for (auto m : {KappaGateMode::none, KappaGateMode::noise_ratio})
    EXPECT_EQ(parse_kappa_gate_mode(kappa_gate_mode_name(m)), m);
  for (auto s : {PsiStorage::fp32, PsiStorage::int8})
    EXPECT_EQ(parse_psi_storage(psi_storage_name(s)), s);
  EXPECT_STREQ(zero_grad_policy_name(ZeroGradPolicy::inertia), "inertia");
  EXPECT_STREQ(kappa_gate_mode_name(KappaGateMode::noise_ratio), "noise_ratio");
  EXPECT_STREQ(psi_storage_name(PsiStorage::int8), "int8");
  expect_error([] { parse_zero_grad_policy("Freeze"); },
               "zero_grad_policy must be one of standard, freeze, decay, inertia, got 'Freeze'");
  expect_error([] { parse_kappa_gate_mode("ratio"); },
               "kappa_gate_mode must be one of none, noise_ratio, got 'ratio'");
  expect_error([] { parse_psi_storage("int4"); },
               "psi_storage must be one of fp32, int8, got 'int4'");
}

TEST(BaselineOptions, OutOfRangeSettingsAreErrors) {
  const std::vector<Var> params = {Var(Tensor({2}), true)};
  const std::vector<std::pair<std::function<void(AdamOptions&)>, std::string>> adam = {
      {[](auto& o) { o.lr = -1; }, "lr must be >= 0, got -1"},
      {[](auto& o) { o.beta1 = 1; }, "beta1 must be in [0, 1), got 1"},
      {[](auto& o) { o.beta2 = -0.1; }, "beta2 must be in [0, 1), got -0.1"},
      {[](auto& o) { o.eps = -1e-8; }, "eps must be >= 0, got -1e-08"},
      {[](auto& o) { o.weight_decay = -0.5; }, "weight_decay must be >= 0, got -0.5"},
  };
  for (const auto& [mutate, message] : adam) {
    AdamOptions o;
    mutate(o);
    expect_error([&] { Adam(params, o); }, message);
    expect_error([&] { AdamW(params, o); }, message);
  }
  const std::vector<std::pair<std::function<void(SgdOptions&)>, std::string>> sgd = {
      {[](auto& o) { o.lr = -1; }, "lr must be >= 0, got -1"},
      {[](auto& o) { o.momentum = -0.9; }, "momentum must be >= 0, got -0.9"},
      {[](auto& o) { o.weight_decay = -1; }, "weight_decay must be >= 0, got -1"},
      {[](auto& o) { o.nesterov = true; },
       "nesterov momentum needs momentum > 0 and dampening 0, got momentum 0"},
      {[](auto& o) { o.nesterov = true, o.momentum = 0.9, o.dampening = 0.1; },
       "nesterov momentum needs momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1"},
  };
  for (const auto& [mutate, message] : sgd) {
    SgdOptions o;
    mutate(o);
    expect_error([&] { Sgd(params, o); }, message);
  }
  EXPECT_EQ(AdamW::defaults().weight_decay, 1e-2);
  EXPECT_EQ(AdamOptions().weight_decay, 0.0);
}

TEST(Optimizer, GroupsAreCheckedAndTakeTheirOwnLrAndWeightDecay) {
  Var a(Tensor({2}), true), b(Tensor({3}), true);
  expect_error(
      [&] {
        Sgd({ParamGroup{{a}, -0.1, {}}}, SgdOptions{});
      },
      "parameter group 0: lr must be >= 0, got -0.1");
  expect_error(
      [&] {
        Sgd({ParamGroup{{a}, {}, {}}, ParamGroup{{b}, {}, -2.0}}, SgdOptions{});
      },
      "parameter group 1: weight_decay must be >= 0, got -2");
  expect_error(
      [&] {
        Sgd({ParamGroup{{a, b}, {}, {}}, ParamGroup{{b}, {}, {}}}, SgdOptions{});
      },
      "parameter group 1: parameter 0 appears more than once");
  expect_error([&] { Sgd({Var(Tensor({2}, DType::f64), true)}); },
               "holds f64, optimizers update f32 only");
  expect_error([&] { Sgd(std::vector<ParamGroup>{}, SgdOptions{}); },
               "at least one parameter group");

  SgdOptions o;
  o.lr = 0.5;
  Sgd sgd({ParamGroup{{a}, {}, {}}, ParamGroup{{b}, 0.25, 0.1}}, o);
  EXPECT_EQ(sgd.groups()[0].lr, 0.5);
  EXPECT_EQ(sgd.groups()[1].lr, 0.25);
  EXPECT_EQ(sgd.groups()[1].weight_decay, 0.1);
  EXPECT_EQ(sgd.lr(), 0.5);
  sgd.set_lr(0.125);
  EXPECT_EQ(sgd.groups()[0].lr, 0.125);
  EXPECT_EQ(sgd.groups()[1].lr, 0.125);
  expect_error([&] { sgd.set_lr(-1); }, "lr must be >= 0, got -1");

  // The group's lr is what the step uses: p -= lr * g with g = 1.
  a.grad() = Tensor::full({2}, 1.0f);
  b.grad() = Tensor::full({3}, 1.0f);
  sgd.step();
  EXPECT_EQ(a.value().f32()[0], -0.125f);
  EXPECT_EQ(b.value().f32()[2], -0.125f);
  sgd.zero_grad();
  EXPECT_FALSE(a.has_grad());
  EXPECT_FALSE(b.has_grad());
}

TEST(Optimizer, GradientOfTheWrongShapeIsAnError) {
  Var a(Tensor({2, 3}), true);
  Chimera21 opt({a});
  a.grad() = Tensor({6});
  expect_error([&] { opt.step(); },
               "gradient of parameter 0 has shape [6] but the parameter has [2, 3]");
}

// ---- lazily created state, memory ---------------------------------------------------------

std::vector<Var> two_params() {
  return {Var(Tensor::full({7, 5}, 0.5f), true), Var(Tensor::full({13}, -0.25f), true)};
}

void set_grads(std::vector<Var>& params, int64_t step) {
  for (size_t k = 0; k < params.size(); ++k) {
    Tensor g(params[k].shape());
    for (int64_t i = 0; i < g.numel(); ++i)
      g.f32()[i] = static_cast<float>(std::sin(0.7 * i + 1.3 * step + k)) * ((i + step) % 4 != 0);
    params[k].grad() = g;
  }
}

TEST(Optimizer, ParameterWithoutGradientIsSkippedAndGetsNoState) {
  std::vector<Var> params = two_params();
  Chimera21Options o;
  o.log_diagnostics = true;
  Chimera21 opt(params, o);
  EXPECT_EQ(opt.state(0), nullptr);
  EXPECT_EQ(opt.state_memory().total, 0);

  set_grads(params, 0);
  params[1].clear_grad();
  const Tensor b_before = params[1].value().clone();
  opt.step();
  EXPECT_TRUE(test::all_equal(params[1].value(), b_before));
  EXPECT_EQ(opt.state(1), nullptr);
  ASSERT_NE(opt.state(0), nullptr);
  EXPECT_EQ(opt.state(0)->step, 1);
  EXPECT_EQ(opt.state_memory().m, 35 * 4);
  // Diagnostics cover only the updated parameter's elements: a's gradient has 9 zeros.
  const auto& diag = opt.last_diagnostics();
  ASSERT_EQ(diag.size(), 16u);
  EXPECT_EQ(diag[11].first, "zero_grad_ratio");
  EXPECT_DOUBLE_EQ(diag[11].second, 9.0 / 35.0);

  set_grads(params, 1);
  opt.step();
  EXPECT_EQ(opt.state(0)->step, 2);
  ASSERT_NE(opt.state(1), nullptr);
  EXPECT_EQ(opt.state(1)->step, 1);
  expect_error([&] { opt.state(2); }, "parameter index 2 out of range");

  // A step where nothing has a gradient changes nothing and leaves no diagnostics.
  opt.zero_grad();
  const Tensor a_before = params[0].value().clone();
  opt.step();
  EXPECT_TRUE(test::all_equal(params[0].value(), a_before));
  EXPECT_EQ(opt.state(0)->step, 2);
  EXPECT_TRUE(opt.last_diagnostics().empty());
}

TEST(Optimizer, AllZeroGradientIsAStepNotASkip) {
  std::vector<Var> params = two_params();
  Adam opt(params);
  params[0].grad() = Tensor({7, 5});
  opt.step();
  ASSERT_NE(opt.state(0), nullptr);
  EXPECT_EQ(opt.state(0)->step, 1);
  EXPECT_EQ(opt.state(1), nullptr);
}

TEST(Optimizer, StateMemoryCountsEachOptimizersState) {
  constexpr int64_t kFp32 = 48 * 4;  // 35 + 13 elements
  auto after_one_step = [](Optimizer& opt, std::vector<Var>& params) {
    set_grads(params, 0);
    opt.step();
    return opt.state_memory();
  };
  std::vector<Var> p1 = two_params(), p2 = two_params(), p3 = two_params(), p4 = two_params();
  Chimera21 fp32(p1);
  Chimera21Options int8_options;
  int8_options.psi_storage = PsiStorage::int8;
  Chimera21 int8(p2, int8_options);
  Adam adam(p3);
  SgdOptions sgd_options;
  sgd_options.momentum = 0.9;
  Sgd sgd(p4, sgd_options);

  const StateMemory f = after_one_step(fp32, p1);
  EXPECT_EQ(f.m, kFp32);
  EXPECT_EQ(f.v, kFp32);
  EXPECT_EQ(f.psi, kFp32);
  EXPECT_EQ(f.other, 0);
  EXPECT_EQ(f.total, 3 * kFp32);

  const StateMemory q = after_one_step(int8, p2);
  EXPECT_EQ(q.psi, 48);
  EXPECT_DOUBLE_EQ(static_cast<double>(q.psi) / f.psi, 0.25);
  EXPECT_EQ(q.total, 2 * kFp32 + 48);
  EXPECT_EQ(int8.state(0)->tensors.at("psi").dtype(), DType::i8);

  const StateMemory a = after_one_step(adam, p3);
  EXPECT_EQ(a.m, kFp32);
  EXPECT_EQ(a.v, kFp32);
  EXPECT_EQ(a.psi, 0);
  EXPECT_EQ(a.other, 8);  // torch's float32 step tensor per parameter
  EXPECT_EQ(a.total, 2 * kFp32 + 8);

  const StateMemory s = after_one_step(sgd, p4);
  EXPECT_EQ(s.m + s.v + s.psi, 0);
  EXPECT_EQ(s.other, kFp32);
  EXPECT_EQ(s.total, kFp32);
}

TEST(Chimera21, DiagnosticsFollowTheSpecOrderAndAreOffByDefault) {
  std::vector<Var> p1 = two_params(), p2 = two_params();
  Chimera21 quiet(p1);
  Chimera21Options o;
  o.log_diagnostics = true;
  Chimera21 loud(p2, o);
  set_grads(p1, 0);
  set_grads(p2, 0);
  quiet.step();
  loud.step();
  EXPECT_TRUE(quiet.last_diagnostics().empty());
  std::vector<std::string> names;
  for (const auto& [name, value] : loud.last_diagnostics()) names.push_back(name);
  EXPECT_EQ(names, kSpecDiagnosticOrder);
  // Logging diagnostics never changes the trajectory.
  EXPECT_TRUE(test::all_equal(p1[0].value(), p2[0].value()));
  EXPECT_TRUE(test::all_equal(p1[1].value(), p2[1].value()));
}

// ---- torch-order numerics and threads ----------------------------------------------------

TEST(TorchNumerics, ExpIsWithinOneUlpAndHandlesTheRangeEnds) {
  for (float x = -20.0f; x <= 20.0f; x += 0.0137f) {
    const float want = static_cast<float>(std::exp(double{x}));
    const float got = torch_expf(x);
    EXPECT_LE(std::fabs(got - want), std::nextafter(want, INFINITY) - want) << x;
  }
  EXPECT_EQ(torch_expf(0.0f), 1.0f);
  // Not the nearest float: exp(x) lies 0.503 ulp from Sleef's answer, which the golden kappas
  // require.
  EXPECT_EQ(torch_expf(0.010984252206981182f), 1.0110447406768799f);
  EXPECT_EQ(torch_expf(101.0f), INFINITY);
  EXPECT_EQ(torch_expf(-105.0f), 0.0f);
  EXPECT_TRUE(std::isnan(torch_expf(NAN)));
  EXPECT_GT(torch_expf(-100.0f), 0.0f);  // subnormal, not flushed
}

TEST(TorchNumerics, SumsAreCompleteAndCascadeKeepsLongSumsAccurate) {
  // Integers sum exactly whatever the order, so every element is counted exactly once.
  for (int64_t n : {0, 1, 3, 7, 8, 9, 31, 32, 33, 35, 100, 1000, 4099}) {
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(i % 17);
    double want = 0;
    for (float v : x) want += v;
    EXPECT_EQ(torch_sum_f32(x.data(), n), want) << n;
  }
  // A plain float loop over a million 0.1s is off by about 1%; the cascade is not.
  std::vector<float> tenths(1 << 20, 0.1f);
  const double want = double{0.1f} * tenths.size();
  EXPECT_NEAR(torch_sum_f32(tenths.data(), tenths.size()), want, want * 1e-6);
  // The 2-norm has no cascade (nor has torch's): fine for parameter-sized tensors.
  const double norm = std::sqrt(double{0.1f} * 0.1f * 1000);
  EXPECT_NEAR(torch_norm2_f32(tenths.data(), 1000), norm, norm * 1e-6);
  const float three_four[] = {3.0f, 4.0f};
  EXPECT_EQ(torch_norm2_f32(three_four, 2), 5.0f);
}

TEST(Chimera21, ResultsDoNotDependOnTheThreadCount) {
  const int saved = num_threads();
  std::vector<std::vector<float>> results;
  std::vector<std::vector<std::pair<std::string, double>>> diagnostics;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<Var> params = {Var(Tensor::full({300, 301}, 0.5f), true)};
    Chimera21Options o;
    o.log_diagnostics = true;
    o.psi_storage = PsiStorage::int8;
    Chimera21 opt(params, o);
    for (int64_t s = 0; s < 3; ++s) {
      set_grads(params, s);
      opt.step();
    }
    const float* p = params[0].value().f32();
    results.emplace_back(p, p + params[0].numel());
    diagnostics.push_back(opt.last_diagnostics());
  }
  set_num_threads(saved);
  EXPECT_EQ(results[1], results[0]);
  EXPECT_EQ(results[2], results[0]);
  EXPECT_EQ(diagnostics[1], diagnostics[0]);
  EXPECT_EQ(diagnostics[2], diagnostics[0]);
}

// ---- checkpoints -------------------------------------------------------------------------

// Runs 10 steps, saves the state through a safetensors round trip, loads it into a fresh
// optimizer on copies of the parameters, then runs both 15 more steps: they must agree bit for
// bit, parameters and state.
template <class Opt, class Options>
void expect_bit_identical_resume(const Options& options) {
  std::vector<Var> params = two_params();
  Opt original(params, options);
  for (int64_t s = 0; s < 10; ++s) {
    set_grads(params, s);
    if (s == 3) params[1].clear_grad();  // b takes one step fewer than a
    original.step();
  }
  const std::string bytes = serialize_safetensors(original.state_dict());
  std::vector<Var> copies;
  for (const Var& p : params) copies.emplace_back(p.value().clone(), true);
  Opt resumed(copies, options);
  resumed.load_state_dict(parse_safetensors(bytes, "checkpoint").tensors);
  ASSERT_NE(resumed.state(1), nullptr);
  EXPECT_EQ(resumed.state(0)->step, 10);
  EXPECT_EQ(resumed.state(1)->step, 9);
  for (int64_t s = 10; s < 25; ++s) {
    set_grads(params, s);
    set_grads(copies, s);
    original.step();
    resumed.step();
  }
  for (size_t k = 0; k < params.size(); ++k)
    EXPECT_TRUE(test::all_equal(copies[k].value(), params[k].value())) << "param " << k;
  const auto want = original.state_dict(), got = resumed.state_dict();
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, tensor] : want) {
    ASSERT_TRUE(got.count(key)) << key;
    EXPECT_EQ(got.at(key).dtype(), tensor.dtype()) << key;
    EXPECT_TRUE(test::all_equal(got.at(key), tensor)) << key;
  }
}

TEST(StateDict, Chimera21ResumesBitIdentically) {
  Chimera21Options o;
  o.lr = 0.01;
  o.weight_decay = 0.05;
  o.zero_grad_policy = ZeroGradPolicy::inertia;
  o.kappa_gate_mode = KappaGateMode::noise_ratio;
  expect_bit_identical_resume<Chimera21>(o);
  o.psi_storage = PsiStorage::int8;
  o.log_diagnostics = true;
  expect_bit_identical_resume<Chimera21>(o);
}

TEST(StateDict, BaselinesResumeBitIdentically) {
  AdamOptions adam;
  adam.lr = 0.01;
  adam.weight_decay = 0.01;
  expect_bit_identical_resume<Adam>(adam);
  expect_bit_identical_resume<AdamW>(adam);
  SgdOptions sgd;
  sgd.lr = 0.1;
  sgd.momentum = 0.9;
  sgd.weight_decay = 1e-3;
  expect_bit_identical_resume<Sgd>(sgd);
  sgd.nesterov = true;
  expect_bit_identical_resume<Sgd>(sgd);
}

TEST(StateDict, NamesAreStableAndHoldTheGroupSettings) {
  std::vector<Var> params = two_params();
  Chimera21Options o;
  o.lr = 0.02;
  Chimera21 opt(params, o);
  set_grads(params, 0);
  params[1].clear_grad();
  opt.step();
  std::set<std::string> keys;
  for (const auto& [key, tensor] : opt.state_dict()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"group.0.lr", "group.0.weight_decay", "state.0.m",
                                         "state.0.psi", "state.0.step", "state.0.v"}));
  const auto dict = opt.state_dict();
  EXPECT_EQ(dict.at("state.0.step").dtype(), DType::i64);
  EXPECT_EQ(dict.at("state.0.step").dim(), 0);
  EXPECT_EQ(dict.at("state.0.step").item(), 1.0);
  EXPECT_EQ(dict.at("group.0.lr").item(), 0.02);

  // Loading restores the saved learning rate, as torch does.
  Chimera21 other(two_params(), o);
  other.set_lr(0.5);
  other.load_state_dict(dict);
  EXPECT_EQ(other.lr(), 0.02);
  EXPECT_EQ(other.state(1), nullptr);
}

TEST(StateDict, BadDictsAreErrorsAndChangeNothing) {
  std::vector<Var> params = two_params();
  Chimera21 opt(params);
  set_grads(params, 0);
  opt.step();
  const auto good = opt.state_dict();
  auto with = [&](const std::string& key, const Tensor& value) {
    auto dict = good;
    dict[key] = value;
    return dict;
  };
  auto without = [&](const std::string& key) {
    auto dict = good;
    dict.erase(key);
    return dict;
  };
  Chimera21Options int8_options;
  int8_options.psi_storage = PsiStorage::int8;
  Chimera21 int8(two_params(), int8_options);
  expect_error([&] { int8.load_state_dict(good); },
               "optimizer state 'state.0.psi' must be i8 [7, 5], got f32 [7, 5]");
  expect_error(
      [&] {
        opt.load_state_dict(with("state.1.m", Tensor({7, 5})));
      },
      "optimizer state 'state.1.m' must be f32 [13], got f32 [7, 5]");
  expect_error([&] { opt.load_state_dict(with("state.2.m", Tensor({13}))); },
               "'state.2.m' names parameter 2 but the optimizer holds 2");
  expect_error(
      [&] {
        opt.load_state_dict(with("state.0.momentum", Tensor({7, 5})));
      },
      "unknown optimizer state key 'state.0.momentum' for chimera21");
  expect_error([&] { opt.load_state_dict(with("lr", Tensor(Shape{}))); },
               "unknown optimizer state key 'lr'");
  expect_error([&] { opt.load_state_dict(with("state.0.step", Tensor(Shape{}))); },
               "optimizer state 'state.0.step' must be a 0-d i64 tensor");
  expect_error([&] { opt.load_state_dict(with("group.1.lr", Tensor(Shape{}, DType::f64))); },
               "'group.1.lr' names group 1 but the optimizer has 1");
  expect_error([&] { opt.load_state_dict(without("state.1.step")); },
               "optimizer state lacks 'state.1.step'");
  expect_error([&] { opt.load_state_dict(without("state.0.v")); },
               "optimizer state lacks 'state.0.v'");
  expect_error([&] { opt.load_state_dict(without("group.0.weight_decay")); },
               "optimizer state lacks 'group.0.weight_decay'");
  // Nothing was replaced by the failed loads.
  const auto after = opt.state_dict();
  ASSERT_EQ(after.size(), good.size());
  for (const auto& [key, tensor] : good) EXPECT_TRUE(test::all_equal(after.at(key), tensor)) << key;
}

}  // namespace
}  // namespace chimera
