#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/experiments/config.h"
#include "test_util.h"

namespace chimera {
namespace {

const std::string kDefaultYaml = std::string(CHIMERA_SOURCE_DIR) + "/configs/default.yaml";

// In a folder of this process's own (removed at exit): ctest runs each case as its own process,
// two at a time, and a shared name let one case read the file another had just rewritten.
std::string write_yaml(const std::string& name, const std::string& text) {
  static const test::TempDir dir("chimera_cfg_test");
  const auto path = dir.path / name;
  std::ofstream(path) << text;
  return path.string();
}

void expect_config_error(const std::string& yaml, const std::string& fragment) {
  const std::string path = write_yaml("chimera_cfg_test.yaml", yaml);
  try {
    load_config(path);
    FAIL() << "no error for:\n" << yaml;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }
}

TEST(Config, DefaultFileEqualsBuiltInDefaults) {
  const Config file = load_config(kDefaultYaml);
  const Config builtin;
  EXPECT_EQ(file.optimizer.lr, builtin.optimizer.lr);
  EXPECT_EQ(file.optimizer.beta1, builtin.optimizer.beta1);
  EXPECT_EQ(file.optimizer.beta2, builtin.optimizer.beta2);
  EXPECT_EQ(file.optimizer.eps_opt, builtin.optimizer.eps_opt);
  EXPECT_EQ(file.optimizer.weight_decay, builtin.optimizer.weight_decay);
  EXPECT_EQ(file.optimizer.rho_psi, builtin.optimizer.rho_psi);
  EXPECT_EQ(file.optimizer.lambda_gate, builtin.optimizer.lambda_gate);
  EXPECT_EQ(file.optimizer.kappa_min, builtin.optimizer.kappa_min);
  EXPECT_EQ(file.optimizer.kappa_max, builtin.optimizer.kappa_max);
  EXPECT_EQ(file.optimizer.log_diagnostics, builtin.optimizer.log_diagnostics);
  EXPECT_EQ(file.optimizer.zero_grad_policy, builtin.optimizer.zero_grad_policy);
  EXPECT_EQ(file.optimizer.idle_decay, builtin.optimizer.idle_decay);
  EXPECT_EQ(file.optimizer.kappa_gate_mode, builtin.optimizer.kappa_gate_mode);
  EXPECT_EQ(file.optimizer.noise_threshold, builtin.optimizer.noise_threshold);
  EXPECT_EQ(file.optimizer.gate_sharpness, builtin.optimizer.gate_sharpness);
  EXPECT_EQ(file.optimizer.psi_storage, builtin.optimizer.psi_storage);
  EXPECT_EQ(file.layer.stat_mode, builtin.layer.stat_mode);
  EXPECT_EQ(file.layer.rho_s, builtin.layer.rho_s);
  EXPECT_EQ(file.layer.alpha_min, builtin.layer.alpha_min);
  EXPECT_EQ(file.layer.alpha_target, builtin.layer.alpha_target);
  EXPECT_EQ(file.layer.warmup_steps, builtin.layer.warmup_steps);
  EXPECT_EQ(file.layer.quant_mode, builtin.layer.quant_mode);
  EXPECT_EQ(file.layer.eps_gamma, builtin.layer.eps_gamma);
  EXPECT_EQ(file.layer.eps_beta, builtin.layer.eps_beta);
  EXPECT_EQ(file.layer.ste_clip, builtin.layer.ste_clip);
  EXPECT_EQ(file.layer.activation_grad, builtin.layer.activation_grad);
  EXPECT_EQ(file.target_bits, builtin.target_bits);
  EXPECT_EQ(file.target_branch, builtin.target_branch);
  EXPECT_EQ(file.controller.tolerance, builtin.controller.tolerance);
  EXPECT_EQ(file.controller.step_size, builtin.controller.step_size);
  EXPECT_EQ(file.controller.alpha_max, builtin.controller.alpha_max);
  EXPECT_EQ(file.quant_modes, builtin.quant_modes);
  EXPECT_EQ(file.benchmark.steps, builtin.benchmark.steps);
  EXPECT_EQ(file.benchmark.seeds, builtin.benchmark.seeds);
  EXPECT_EQ(file.benchmark.batch_size, builtin.benchmark.batch_size);
  EXPECT_EQ(file.benchmark.in_features, builtin.benchmark.in_features);
  EXPECT_EQ(file.benchmark.out_features, builtin.benchmark.out_features);
  EXPECT_EQ(file.benchmark.log_dir, builtin.benchmark.log_dir);
}

TEST(Config, ValuesOverrideDefaults) {
  const Config c = load_config(write_yaml(
      "chimera_cfg_ok.yaml",
      "lr: 0.01\nzero_grad_policy: freeze\nste_clip: null\nbenchmark:\n  steps: 3\n"));
  EXPECT_EQ(c.optimizer.lr, 0.01);
  EXPECT_EQ(c.optimizer.zero_grad_policy, ZeroGradPolicy::freeze);
  EXPECT_FALSE(c.layer.ste_clip.has_value());
  EXPECT_EQ(c.benchmark.steps, 3);
  EXPECT_EQ(c.benchmark.seeds, 3);  // untouched keys keep their defaults
}

TEST(Config, UnknownKeyIsNamed) { expect_config_error("lr: 0.1\nlearning_rate: 2\n", "'learning_rate'"); }
TEST(Config, UnknownNestedKeyIsNamed) {
  expect_config_error("benchmark:\n  stepz: 3\n", "'benchmark.stepz'");
}
TEST(Config, WrongTypeIsNamed) { expect_config_error("lr: fast\n", "'lr' must be a number"); }
TEST(Config, WrongIntegerIsNamed) {
  expect_config_error("warmup_steps: 2.5\n", "'warmup_steps' must be an integer");
}
TEST(Config, OutOfRangeIsNamed) { expect_config_error("beta1: 1.0\n", "beta1"); }
TEST(Config, BadEnumIsNamed) { expect_config_error("psi_storage: int4\n", "psi_storage"); }
TEST(Config, BadYaml) { expect_config_error("lr: [1, 2\n", "not valid YAML"); }
TEST(Config, MissingFile) { EXPECT_THROW(load_config("/nonexistent/chimera.yaml"), Error); }

}  // namespace
}  // namespace chimera
