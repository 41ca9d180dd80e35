// compare-optimizers and stress-suite: the reference's trajectories (golden), its records and
// console lines, its timing summary rules, and the command line's checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/threads.h"
#include "golden.h"
#include "test_util.h"
#include "harness/experiments/optimizer_stress.h"
#include "harness/experiments/optimizer_stress_records.h"
#include "harness/experiments/optimizer_variants.h"
#include "harness/log/py_format.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

using test::TempDir;

// A file in a test's temporary folder, as a path string.
std::string file_in(const TempDir& dir, const std::string& name) {
  return (dir.path / name).string();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string golden_path(const std::string& problem) {
  return test::golden_dir() + "/traj_compare_optimizers_" + problem + ".safetensors";
}

// ---------------------------------------------------------------------------------------------
// Golden trajectories: the reference's data, weights and noise through --init-from.

class CompareOptimizersGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(CompareOptimizersGolden, LossesAndFinalDiagnosticsMatchTheReference) {
  const std::string problem = GetParam();
  const Safetensors golden = test::load_golden("traj_compare_optimizers_" + problem);
  const auto params = nlohmann::json::parse(golden.metadata.at("params"));
  ASSERT_EQ(params.at("problem"), problem);
  const std::vector<std::string> keys = params.at("diagnostic_keys");
  ASSERT_EQ(keys.size(), 16u);

  OptimizerStressOptions o;
  o.problem = problem;
  o.steps = params.at("steps");
  o.shape = {params.at("batch_size"), params.at("in_features"), params.at("hidden_features")};
  o.lr = params.at("lr").get<double>();
  o.noise_scale = params.at("noise_scale");
  o.sparsity = params.at("sparsity");
  o.init_from = golden_path(problem);
  std::ostringstream out;
  const std::vector<VariantRun> runs = run_compare_optimizers(o, out);
  ASSERT_EQ(runs.size(), kOptimizerVariants.size());

  double worst_loss = 0, worst_diag = 0;
  for (size_t v = 0; v < runs.size(); ++v) {
    const VariantRun& run = runs[v];
    SCOPED_TRACE(run.optimizer_name);
    ASSERT_EQ(run.optimizer_name, kOptimizerVariants[v]);
    const Tensor want = golden.at(run.optimizer_name + ".losses");
    ASSERT_EQ(static_cast<int64_t>(run.steps.size()), want.numel());
    for (int64_t s = 0; s < want.numel(); ++s) {
      const double w = want.data<double>()[s], got = run.steps[s]["loss"].get<double>();
      worst_loss = std::max(worst_loss, std::fabs(got - w) / std::fabs(w));
      // The README's trajectory tolerance is relative 1e-4, but the variants' losses differ from
      // each other by as little as 1e-5 to 5e-5 over 20 steps; 1e-5 keeps the check able to
      // tell most of them apart (the diagnostics below separate the rest). We match to ~3e-7.
      EXPECT_NEAR(got, w, 1e-5 * std::fabs(w)) << "step " << s + 1;
    }
    EXPECT_EQ(run.summary["final_loss"].get<double>(), run.steps.back()["loss"].get<double>());

    if (run.optimizer_name == "adam") {
      EXPECT_FALSE(golden.has("adam.final_diagnostics"));
      EXPECT_TRUE(run.final_diagnostics.empty());
      continue;
    }
    const Tensor diag = golden.at(run.optimizer_name + ".final_diagnostics");
    ASSERT_EQ(run.final_diagnostics.size(), keys.size());
    for (size_t k = 0; k < keys.size(); ++k) {
      const auto it = std::find_if(run.final_diagnostics.begin(), run.final_diagnostics.end(),
                                   [&](const auto& d) { return d.first == keys[k]; });
      ASSERT_NE(it, run.final_diagnostics.end()) << keys[k];
      const double w = diag.data<double>()[k];
      // Optimizer-trajectory tolerance of the golden README: relative 1e-5 or absolute 1e-6.
      EXPECT_NEAR(it->second, w, 1e-6 + 1e-5 * std::fabs(w)) << keys[k];
      if (std::fabs(w) > 1e-6)
        worst_diag = std::max(worst_diag, std::fabs(it->second - w) / std::fabs(w));
    }
  }
  std::printf("[ golden   ] %s: worst loss relative error %.3g, worst diagnostic %.3g\n",
              problem.c_str(), worst_loss, worst_diag);
}

INSTANTIATE_TEST_SUITE_P(AllProblems, CompareOptimizersGolden,
                         ::testing::Values("regression", "sparse_relu", "noisy_quadratic",
                                           "saddle"));

TEST(CompareOptimizersGolden, InitFromErrorsNameTheKeyAndTheFile) {
  OptimizerStressOptions o;
  o.steps = 3;
  o.init_from = golden_path("regression");
  o.shape.in_features = 9;
  std::ostringstream out;
  try {
    run_compare_optimizers(o, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'x'"), std::string::npos) << m;
    EXPECT_NE(m.find(o.init_from), std::string::npos) << m;
    EXPECT_NE(m.find("[64, 10]"), std::string::npos) << m;
  }
  o.shape.in_features = 10;
  o.steps = 21;  // the file holds 20 steps of noise
  try {
    run_compare_optimizers(o, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'noise.0.weight'"), std::string::npos) << e.what();
  }

  TempDir dir("chimera_stress_initfrom");
  std::map<std::string, Tensor> partial{{"x", Tensor({64, 10})}, {"target", Tensor({64, 1})}};
  write_safetensors(file_in(dir, "partial.safetensors"), partial);
  o.steps = 3;
  o.init_from = file_in(dir, "partial.safetensors");
  try {
    run_compare_optimizers(o, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("missing key 'init.0.weight'"), std::string::npos) << m;
    EXPECT_NE(m.find(o.init_from), std::string::npos) << m;
  }
}

// ---------------------------------------------------------------------------------------------
// Records and console lines.

const std::vector<std::string> kStepKeys{"active_mean_effective_lr",
                                         "applied_update_norm",
                                         "collision_score",
                                         "kappa_gate_mode",
                                         "loss",
                                         "lr",
                                         "max_update_abs",
                                         "mean_kappa",
                                         "mean_noise_ratio",
                                         "mean_update_abs",
                                         "optimizer_name",
                                         "optimizer_state_bytes",
                                         "param_update_ratio",
                                         "problem",
                                         "psi_memory_ratio_vs_fp32",
                                         "psi_state_bytes",
                                         "psi_storage",
                                         "record_type",
                                         "run_id",
                                         "script",
                                         "seed",
                                         "step",
                                         "step_time_ms",
                                         "timestamp_utc",
                                         "zero_grad_policy",
                                         "zero_grad_ratio"};
const std::vector<std::string> kSummaryKeys{"final_loss",
                                            "kappa_gate_mode",
                                            "lr",
                                            "max_collision_score",
                                            "mean_active_effective_lr",
                                            "mean_collision_score",
                                            "mean_step_time_ms",
                                            "mean_step_time_ms_after_warmup",
                                            "mean_zero_grad_ratio",
                                            "median_step_time_ms_after_warmup",
                                            "optimizer_name",
                                            "optimizer_state_bytes",
                                            "problem",
                                            "psi_memory_ratio_vs_fp32",
                                            "psi_state_bytes",
                                            "psi_storage",
                                            "record_type",
                                            "run_id",
                                            "script",
                                            "seed",
                                            "timestamp_utc",
                                            "timing_warmup_steps",
                                            "zero_grad_policy"};

std::vector<std::string> keys_in_file_order(const std::string& line) {
  const ordered_json record = ordered_json::parse(line);
  std::vector<std::string> keys;
  for (const auto& item : record.items()) keys.push_back(item.key());
  return keys;
}

TEST(CompareOptimizersRecords, JsonlHasTheReferenceFieldsInSortedOrder) {
  TempDir dir("chimera_stress_fields");
  OptimizerStressOptions o;
  o.steps = 3;
  o.problem = "sparse_relu";
  o.log_jsonl = file_in(dir, "log.jsonl");
  std::ostringstream out;
  run_compare_optimizers(o, out);
  const std::vector<std::string> lines = read_lines(o.log_jsonl);
  ASSERT_EQ(lines.size(), kOptimizerVariants.size() * 4);
  for (size_t v = 0; v < kOptimizerVariants.size(); ++v) {
    const std::string name = kOptimizerVariants[v];
    const bool adam = name == "adam";
    for (int s = 0; s < 4; ++s) {
      const std::string& line = lines[v * 4 + s];
      const auto r = nlohmann::json::parse(line);
      EXPECT_EQ(keys_in_file_order(line), s < 3 ? kStepKeys : kSummaryKeys) << line;
      EXPECT_EQ(r["record_type"], s < 3 ? "step" : "summary");
      EXPECT_EQ(r["optimizer_name"], name);
      EXPECT_EQ(r["problem"], "sparse_relu");
      EXPECT_EQ(r["script"], "compare_optimizers");
      EXPECT_EQ(r["run_id"], "compare_optimizers-" + name + "-seed-123");
      EXPECT_EQ(r["seed"], 123);
      EXPECT_EQ(r["lr"], 0.001);
      // 97 parameters: m and v in f32, psi in f32 or int8, Adam's float32 step counters.
      const int64_t bytes = adam ? 97 * 8 + 4 * 4 : name == "chimera21_psi_int8" ? 97 * 9 : 97 * 12;
      EXPECT_EQ(r["optimizer_state_bytes"], bytes);
      EXPECT_EQ(r["psi_state_bytes"], adam ? 0 : name == "chimera21_psi_int8" ? 97 : 388);
      if (adam) {
        EXPECT_TRUE(r["psi_memory_ratio_vs_fp32"].is_null());
        EXPECT_EQ(r["psi_storage"], "fp32");
        EXPECT_EQ(r["zero_grad_policy"], "n/a");
        EXPECT_EQ(r["kappa_gate_mode"], "n/a");
      } else {
        EXPECT_EQ(r["psi_memory_ratio_vs_fp32"], name == "chimera21_psi_int8" ? 0.25 : 1.0);
      }
      if (s < 3) {
        EXPECT_EQ(r["step"], s + 1);
        EXPECT_GT(r["step_time_ms"].get<double>(), 0.0);
        for (const char* key : {"mean_kappa", "mean_noise_ratio", "active_mean_effective_lr",
                                "applied_update_norm", "param_update_ratio", "mean_update_abs",
                                "max_update_abs", "collision_score", "zero_grad_ratio"})
          EXPECT_EQ(r[key].is_null(), adam) << key;
      } else {
        EXPECT_EQ(r["mean_collision_score"].is_null(), adam);
        EXPECT_EQ(r["timing_warmup_steps"], 0);
      }
    }
  }
  // psi_storage, zero_grad_policy, kappa_gate_mode of each variant, in kOptimizerVariants order.
  const std::vector<std::vector<std::string>> policies{{"fp32", "n/a", "n/a"},
                                                       {"fp32", "standard", "none"},
                                                       {"fp32", "standard", "noise_ratio"},
                                                       {"fp32", "freeze", "none"},
                                                       {"fp32", "decay", "none"},
                                                       {"fp32", "inertia", "none"},
                                                       {"int8", "standard", "none"}};
  for (size_t v = 0; v < kOptimizerVariants.size(); ++v) {
    const auto r = nlohmann::json::parse(lines[v * 4]);
    EXPECT_EQ(
        (std::vector<std::string>{r["psi_storage"], r["zero_grad_policy"], r["kappa_gate_mode"]}),
        policies[v])
        << kOptimizerVariants[v];
  }
}

TEST(CompareOptimizersRecords, ConsoleLinesAsTheReferencePrintsThem) {
  OptimizerStressOptions o;
  o.steps = 2;
  std::ostringstream out;
  const std::vector<VariantRun> runs = run_compare_optimizers(o, out);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 7u * 2 + 1 + 7 + 1);  // steps 1 and N per variant, table, status
  char loss[32];
  std::snprintf(loss, sizeof loss, "%.6f", runs[0].steps[0]["loss"].get<double>());
  EXPECT_EQ(lines[0], std::string("[optimizer] optimizer_name=adam step=1 loss=") + loss +
                          " mean_kappa=None mean_noise_ratio=None collision_score=None");
  const Json& c = runs[1].steps[1];
  EXPECT_EQ(lines[3], "[optimizer] optimizer_name=chimera21 step=2 loss=" +
                          py_fixed6(c["loss"].get<double>()) +
                          " mean_kappa=" + py_repr(c["mean_kappa"].get<double>()) +
                          " mean_noise_ratio=" + py_repr(c["mean_noise_ratio"].get<double>()) +
                          " collision_score=" + py_repr(c["collision_score"].get<double>()));
  EXPECT_EQ(lines[14], optimizer_summary_header());
  EXPECT_EQ(lines[14].rfind("[optimizer_summary] optimizer_name final_loss mean_step_time_ms ", 0),
            0u);
  EXPECT_NE(lines[15].find(" None None None 792 0"), std::string::npos) << lines[15];
  EXPECT_EQ(lines[15].rfind("[optimizer_summary] adam ", 0), 0u);
  EXPECT_NE(lines[21].find(" 873 97"), std::string::npos) << lines[21];
  EXPECT_EQ(lines.back(), "[optimizer] status=passed");
}

TEST(PyFormat, FloatsPrintAsPythonRepr) {
  EXPECT_EQ(py_repr(0.001), "0.001");
  EXPECT_EQ(py_repr(2.0), "2.0");
  EXPECT_EQ(py_repr(-0.0), "-0.0");
  EXPECT_EQ(py_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(py_repr(0.0001), "0.0001");
  EXPECT_EQ(py_repr(0.00012345), "0.00012345");
  EXPECT_EQ(py_repr(1e-05), "1e-05");
  EXPECT_EQ(py_repr(-2.5e-07), "-2.5e-07");
  EXPECT_EQ(py_repr(1e-9), "1e-09");
  EXPECT_EQ(py_repr(123.456), "123.456");
  EXPECT_EQ(py_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_repr(1e16), "1e+16");
  EXPECT_EQ(py_repr(1.2345e300), "1.2345e+300");
  EXPECT_EQ(py_repr(5e-324), "5e-324");
  EXPECT_EQ(py_repr(INFINITY), "inf");
  EXPECT_EQ(py_repr(NAN), "nan");
  EXPECT_EQ(py_str(Json(nullptr)), "None");
  EXPECT_EQ(py_str(Json(792)), "792");
  EXPECT_EQ(py_str(Json("n/a")), "n/a");
  EXPECT_EQ(py_str(Json(true)), "True");
  EXPECT_EQ(py_fixed6(1.0825), "1.082500");
}

// ---------------------------------------------------------------------------------------------
// Summary timing rules (the reference's _timing_after_warmup and _median).

std::vector<Json> timed_steps(const std::vector<double>& times) {
  std::vector<Json> steps;
  for (size_t i = 0; i < times.size(); ++i) {
    Json r;
    r["run_id"] = "r";
    r["problem"] = "saddle";
    r["optimizer_name"] = "chimera21";
    r["step"] = static_cast<int64_t>(i + 1);
    r["loss"] = 0.5 + static_cast<double>(i);
    r["step_time_ms"] = times[i];
    r["collision_score"] = i == 1 ? Json(nullptr) : Json(static_cast<double>(i));
    r["zero_grad_ratio"] = nullptr;
    r["active_mean_effective_lr"] = 0.25;
    for (const char* key : {"optimizer_state_bytes", "psi_state_bytes"}) r[key] = 4;
    r["psi_memory_ratio_vs_fp32"] = 1.0;
    for (const char* key : {"psi_storage", "zero_grad_policy", "kappa_gate_mode"}) r[key] = "x";
    r["lr"] = 0.001;
    r["seed"] = 1;
    steps.push_back(r);
  }
  return steps;
}

TEST(CompareOptimizersSummary, TimingAfterWarmupMeanAndMedian) {
  const std::vector<Json> steps = timed_steps({10.0, 1.0, 2.0, 4.0});
  const Json none = optimizer_summary_record(steps, 0);
  EXPECT_DOUBLE_EQ(none["mean_step_time_ms"].get<double>(), 17.0 / 4);
  EXPECT_DOUBLE_EQ(none["mean_step_time_ms_after_warmup"].get<double>(), 17.0 / 4);
  EXPECT_DOUBLE_EQ(none["median_step_time_ms_after_warmup"].get<double>(), 3.0);  // even count
  const Json one = optimizer_summary_record(steps, 1);
  EXPECT_DOUBLE_EQ(one["mean_step_time_ms"].get<double>(), 17.0 / 4);  // always every step
  EXPECT_DOUBLE_EQ(one["mean_step_time_ms_after_warmup"].get<double>(), 7.0 / 3);
  EXPECT_DOUBLE_EQ(one["median_step_time_ms_after_warmup"].get<double>(), 2.0);  // odd count
  EXPECT_EQ(one["timing_warmup_steps"], 1);
  // A warm-up covering every step falls back to all steps.
  const Json all = optimizer_summary_record(steps, 4);
  EXPECT_DOUBLE_EQ(all["mean_step_time_ms_after_warmup"].get<double>(), 17.0 / 4);
  EXPECT_DOUBLE_EQ(all["median_step_time_ms_after_warmup"].get<double>(), 3.0);
  EXPECT_EQ(all["timing_warmup_steps"], 4);
  EXPECT_DOUBLE_EQ(
      optimizer_summary_record(steps, 3)["median_step_time_ms_after_warmup"].get<double>(), 4.0);
}

TEST(CompareOptimizersSummary, DefinedMeansSkipNullsAndFinalValuesComeFromTheLastStep) {
  const Json s = optimizer_summary_record(timed_steps({1.0, 1.0, 1.0, 1.0}), 0);
  EXPECT_DOUBLE_EQ(s["mean_collision_score"].get<double>(), (0.0 + 2.0 + 3.0) / 3);
  EXPECT_DOUBLE_EQ(s["max_collision_score"].get<double>(), 3.0);
  EXPECT_TRUE(s["mean_zero_grad_ratio"].is_null());
  EXPECT_DOUBLE_EQ(s["mean_active_effective_lr"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(s["final_loss"].get<double>(), 3.5);
  EXPECT_EQ(s["record_type"], "summary");
  EXPECT_EQ(s["script"], "compare_optimizers");
  EXPECT_THROW(optimizer_summary_record({}, 0), Error);
}

// ---------------------------------------------------------------------------------------------
// Determinism, --save-init / --init-from, the suite's single log.

// Everything but wall-clock fields.
Json without_clock(Json r) {
  for (const char* key : {"timestamp_utc", "step_time_ms", "mean_step_time_ms",
                          "mean_step_time_ms_after_warmup", "median_step_time_ms_after_warmup"})
    r.erase(key);
  return r;
}

void expect_same_records(const std::vector<VariantRun>& a, const std::vector<VariantRun>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t v = 0; v < a.size(); ++v) {
    ASSERT_EQ(a[v].steps.size(), b[v].steps.size());
    for (size_t s = 0; s < a[v].steps.size(); ++s)
      EXPECT_EQ(without_clock(a[v].steps[s]), without_clock(b[v].steps[s]));
    EXPECT_EQ(without_clock(a[v].summary), without_clock(b[v].summary));
    EXPECT_EQ(a[v].final_diagnostics, b[v].final_diagnostics);
  }
}

TEST(CompareOptimizersRuns, SameSeedAndThreadsGiveIdenticalRecords) {
  const int before = num_threads();
  for (const char* problem : {"regression", "noisy_quadratic"}) {
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      OptimizerStressOptions o;
      o.steps = 4;
      o.problem = problem;
      std::ostringstream out;
      expect_same_records(run_compare_optimizers(o, out), run_compare_optimizers(o, out));
    }
  }
  set_num_threads(before);
  OptimizerStressOptions a, b;
  a.steps = b.steps = 2;
  b.seed = 124;
  std::ostringstream out;
  EXPECT_NE(run_compare_optimizers(a, out)[0].steps[0]["loss"],
            run_compare_optimizers(b, out)[0].steps[0]["loss"]);
}

TEST(CompareOptimizersRuns, SaveInitThenInitFromReplaysTheRun) {
  TempDir dir("chimera_stress_saveinit");
  OptimizerStressOptions o;
  o.steps = 5;
  o.problem = "noisy_quadratic";
  o.save_init = file_in(dir, "init.safetensors");
  std::ostringstream out;
  const std::vector<VariantRun> drawn = run_compare_optimizers(o, out);
  const Safetensors saved = read_safetensors(o.save_init);
  EXPECT_EQ(saved.at("x").shape(), (Shape{64, 10}));
  EXPECT_EQ(saved.at("target").shape(), (Shape{64, 1}));
  EXPECT_EQ(saved.at("init.0.weight").shape(), (Shape{8, 10}));
  EXPECT_EQ(saved.at("init.2.bias").shape(), (Shape{1}));
  EXPECT_EQ(saved.at("noise.0.weight").shape(), (Shape{5, 8, 10}));
  EXPECT_EQ(saved.at("noise.2.weight").shape(), (Shape{5, 1, 8}));
  EXPECT_EQ(nlohmann::json::parse(saved.metadata.at("params"))["problem"], "noisy_quadratic");

  OptimizerStressOptions replay = o;
  replay.save_init.clear();
  replay.init_from = file_in(dir, "init.safetensors");
  replay.seed = 999;  // the data comes from the file; only the records' seed field changes
  const std::vector<VariantRun> loaded = run_compare_optimizers(replay, out);
  for (size_t v = 0; v < drawn.size(); ++v)
    for (size_t s = 0; s < drawn[v].steps.size(); ++s)
      EXPECT_EQ(drawn[v].steps[s]["loss"], loaded[v].steps[s]["loss"]);
}

TEST(CompareOptimizersRuns, SparseReluStartsWithMostUnitsOffAndRegressionZeroesColumns) {
  OptimizerStressOptions o;
  o.steps = 1;
  o.problem = "regression";
  std::ostringstream out;
  // x[:, ::3] = 0 zeroes 4 of the 10 input columns: 32 of the 97 weight gradients are exactly 0.
  EXPECT_DOUBLE_EQ(run_compare_optimizers(o, out)[1].steps[0]["zero_grad_ratio"].get<double>(),
                   32.0 / 97.0);
  o.problem = "noisy_quadratic";
  EXPECT_DOUBLE_EQ(run_compare_optimizers(o, out)[1].steps[0]["zero_grad_ratio"].get<double>(),
                   0.0);
  o.problem = "sparse_relu";
  EXPECT_GT(run_compare_optimizers(o, out)[1].steps[0]["zero_grad_ratio"].get<double>(), 0.3);
}

TEST(StressSuite, AppendsAllFourProblemsIntoOneTruncatedLog) {
  TempDir dir("chimera_stress_suite");
  OptimizerStressOptions o = stress_suite_defaults();
  EXPECT_EQ(o.steps, 10);
  EXPECT_EQ(o.noise_scale, 2.0);
  EXPECT_EQ(o.sparsity, 0.7);
  EXPECT_EQ(o.log_jsonl, "outputs/optimizer_stress_suite.jsonl");
  o.steps = 2;
  o.log_jsonl = file_in(dir, "suite.jsonl");
  { std::ofstream(o.log_jsonl) << "{\"stale\":1}\n"; }
  std::ostringstream out;
  const std::vector<ProblemRuns> results = run_stress_suite(o, out);
  ASSERT_EQ(results.size(), 4u);
  const std::vector<std::string> lines = read_lines(o.log_jsonl);
  ASSERT_EQ(lines.size(), 4u * 7 * 3);
  const std::array<const char*, 4> problems{"regression", "sparse_relu", "noisy_quadratic",
                                            "saddle"};
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto r = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(r["problem"], problems[i / 21]) << i;
    EXPECT_EQ(r["optimizer_name"], kOptimizerVariants[(i % 21) / 3]) << i;
    EXPECT_EQ(r["record_type"], i % 3 == 2 ? "summary" : "step") << i;
  }
  const std::string text = out.str();
  size_t passed = 0;
  for (size_t p = text.find("[optimizer] status=passed"); p != std::string::npos;
       p = text.find("[optimizer] status=passed", p + 1))
    ++passed;
  EXPECT_EQ(passed, 4u);
  const size_t table = text.find(stress_suite_header());
  ASSERT_NE(table, std::string::npos);
  EXPECT_NE(text.find("[optimizer_stress_suite] saddle chimera21_psi_int8 ", table),
            std::string::npos);
  EXPECT_TRUE(text.ends_with("\n[optimizer_stress_suite] status=passed\n"));

  o.init_from = "x.safetensors";
  EXPECT_THROW(run_stress_suite(o, out), Error);
}

// ---------------------------------------------------------------------------------------------
// The command line: flags, exit codes, nothing written on a bad value.

test::CliResult run_binary(const std::string& args) { return test::run_chimera(args); }

TEST(OptimizerStressCli, InvalidValuesExitNonZeroNamingTheFlagAndLeaveTheLogAlone) {
  TempDir dir("chimera_stress_cli");
  const std::string log = file_in(dir, "kept.jsonl");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--steps 0", "--steps"},
      {"--steps -3", "--steps"},
      {"--steps x", "--steps"},
      {"--sparsity 1.5", "--sparsity"},
      {"--sparsity -0.1", "--sparsity"},
      {"--lr -0.1", "--lr"},
      {"--timing-warmup-steps -1", "--timing-warmup-steps"},
      {"--batch-size 0", "--batch-size"},
      {"--in-features 0", "--in-features"},
      {"--hidden-features -1", "--hidden-features"},
      {"--noise-scale inf", "--noise-scale"},
      {"--threads 0", "--threads"},
      {"--config /nonexistent/c.yaml", "/nonexistent/c.yaml"},
  };
  for (const char* command : {"compare-optimizers", "stress-suite"}) {
    for (const auto& [flags, named] : cases) {
      { std::ofstream(log) << "{\"kept\":1}\n"; }
      const test::CliResult r = run_binary(std::string(command) + " " + flags + " --log-jsonl " + log);
      EXPECT_NE(r.code, 0) << command << " " << flags;
      EXPECT_NE(r.out.find(named), std::string::npos) << command << " " << flags << ": " << r.out;
      EXPECT_EQ(read_lines(log), std::vector<std::string>{"{\"kept\":1}"})
          << command << " " << flags;
    }
  }
  const test::CliResult p = run_binary("compare-optimizers --problem nope --log-jsonl " + log);
  EXPECT_NE(p.code, 0);
  EXPECT_NE(p.out.find("--problem"), std::string::npos) << p.out;
  EXPECT_EQ(read_lines(log), std::vector<std::string>{"{\"kept\":1}"});
  const test::CliResult i = run_binary(
      "compare-optimizers --init-from /nonexistent/i.safetensors "
      "--log-jsonl " +
      log);
  EXPECT_NE(i.code, 0);
  EXPECT_NE(i.out.find("/nonexistent/i.safetensors"), std::string::npos) << i.out;
  EXPECT_EQ(read_lines(log), std::vector<std::string>{"{\"kept\":1}"});
  EXPECT_NE(i.out.find("--init-from"), std::string::npos) << i.out;
  const test::CliResult save = run_binary(
      "compare-optimizers --save-init /proc/forbidden/i.safetensors "
      "--log-jsonl " +
      log);
  EXPECT_NE(save.code, 0);
  EXPECT_NE(save.out.find("--save-init"), std::string::npos) << save.out;
  EXPECT_NE(save.out.find("/proc/forbidden/i.safetensors"), std::string::npos) << save.out;
  EXPECT_EQ(read_lines(log), std::vector<std::string>{"{\"kept\":1}"});
  const test::CliResult w = run_binary("compare-optimizers --steps 1 --log-jsonl /proc/forbidden/x.jsonl");
  EXPECT_NE(w.code, 0);
  EXPECT_NE(w.out.find("/proc/forbidden/x.jsonl"), std::string::npos) << w.out;
  EXPECT_EQ(w.out.find("[optimizer]"), std::string::npos) << w.out;  // nothing ran
  const test::CliResult s = run_binary("stress-suite --steps 1 --log-jsonl /proc/forbidden/x.jsonl");
  EXPECT_NE(s.code, 0);
  EXPECT_NE(s.out.find("--log-jsonl"), std::string::npos) << s.out;
  const test::CliResult u = run_binary("stress-suite --problem saddle");  // the suite runs every problem
  EXPECT_NE(u.code, 0);
}

TEST(OptimizerStressCli, CommandsRunWithTheReferenceDefaults) {
  TempDir dir("chimera_stress_cli_ok");
  const test::CliResult h = run_binary("compare-optimizers --help");
  EXPECT_EQ(h.code, 0);
  for (const char* flag :
       {"--steps", "--seed", "--batch-size", "--in-features", "--hidden-features", "--lr",
        "--problem", "--noise-scale", "--sparsity", "--timing-warmup-steps", "--log-jsonl",
        "--threads", "--config", "--init-from", "--save-init"})
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;

  const test::CliResult c = run_binary("compare-optimizers --threads 1 --problem saddle --log-jsonl " +
                              file_in(dir, "c.jsonl"));
  ASSERT_EQ(c.code, 0) << c.out;
  const std::vector<std::string> lines = read_lines(file_in(dir, "c.jsonl"));
  ASSERT_EQ(lines.size(), 7u * 21);  // 20 steps + a summary per variant
  EXPECT_NE(c.out.find("[optimizer] optimizer_name=adam step=20 loss="), std::string::npos);
  EXPECT_TRUE(c.out.ends_with("\n[optimizer] status=passed\n")) << c.out;

  const test::CliResult s = run_binary(
      "stress-suite --threads 1 --steps 3 --timing-warmup-steps 1 "
      "--log-jsonl " +
      file_in(dir, "s.jsonl"));
  ASSERT_EQ(s.code, 0) << s.out;
  const std::vector<std::string> suite = read_lines(file_in(dir, "s.jsonl"));
  ASSERT_EQ(suite.size(), 4u * 7 * 4);
  const auto summary = nlohmann::json::parse(suite.back());
  EXPECT_EQ(summary["timing_warmup_steps"], 1);
  EXPECT_EQ(summary["problem"], "saddle");
  EXPECT_NE(s.out.find("[optimizer_stress_suite] status=passed"), std::string::npos);
}

}  // namespace
}  // namespace chimera
