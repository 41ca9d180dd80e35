// compare-quant-modes: the reference's trajectories from its own start (golden files), the
// records and console lines it writes, start files, and the program's flags, log and exit codes.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/safetensors.h"
#include "golden.h"
#include "test_util.h"
#include "harness/experiments/compare_quant_modes.h"
#include "harness/log/summary_record.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

std::string golden_path(const std::string& variant) {
  return test::golden_dir() + "/traj_compare_quant_modes_" + variant + ".safetensors";
}

// The run the golden file describes: its params, its start, the given activation gradient.
CompareQuantModesOptions golden_options(const Safetensors& golden, const std::string& variant,
                                        ActivationGrad grad) {
  const Json params = Json::parse(golden.metadata.at("params"));
  CompareQuantModesOptions o = compare_quant_modes_defaults(Config{});
  o.steps = params.at("steps");
  EXPECT_EQ(params.at("warmup_steps").get<int64_t>(), o.steps);
  o.seeds = 3;
  o.batch_size = params.at("batch_size");
  o.in_features = params.at("in_features");
  o.out_features = params.at("out_features");
  o.lr = params.at("lr");
  o.config.layer.activation_grad = grad;
  o.init_from = golden_path(variant);
  return o;
}

double worst_relative(const Tensor& actual, const Tensor& expected) {
  const Tensor a = actual.to(DType::f64), e = expected.to(DType::f64);
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::fabs(a.data<double>()[i] - e.data<double>()[i]) /
                                std::fabs(e.data<double>()[i]));
  return worst;
}

// Losses within the README's 1e-4 (relative); per-step stats [gamma, alpha, zero, plus, minus,
// effective_bits] with the ternary ratios exact.
void expect_matches_golden(const std::string& variant, ActivationGrad grad) {
  const Safetensors golden = test::load_golden("traj_compare_quant_modes_" + variant);
  std::ostringstream console;
  const CompareQuantModesResult result =
      run_compare_quant_modes(golden_options(golden, variant, grad), console);
  ASSERT_EQ(result.runs.size(), 6u);
  double worst_loss = 0, worst_gamma = 0, worst_bits = 0;
  for (const ModeRun& run : result.runs) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on "s" + std::to_string(...).
    std::string key = "s";
    key += std::to_string(run.seed - 11);
    key += "." + run.mode + ".";
    SCOPED_TRACE(key);
    const int64_t steps = static_cast<int64_t>(run.losses.size());
    ASSERT_EQ(steps, 8);
    Tensor losses({steps}, DType::f64), stats({steps, 6}, DType::f64);
    for (int64_t t = 0; t < steps; ++t) {
      const LayerStats& s = run.stats[t];
      losses.data<double>()[t] = run.losses[t];
      const double row[6] = {s.gamma,
                             s.alpha,
                             s.ternary.zero_ratio,
                             s.ternary.plus_ratio,
                             s.ternary.minus_ratio,
                             s.ternary.effective_bits};
      std::copy(row, row + 6, stats.data<double>() + 6 * t);
    }
    const Tensor& want_losses = golden.at(key + "losses");
    const Tensor want_stats = golden.at(key + "stats").to(DType::f64);
    EXPECT_TRUE(test::all_close(losses, want_losses, 1e-4, 0.0));
    for (int64_t t = 0; t < steps; ++t) {
      const double* got = stats.data<double>() + 6 * t;
      const double* want = want_stats.data<double>() + 6 * t;
      EXPECT_NEAR(got[0], want[0], 1e-6 * want[0]) << "gamma, step " << t + 1;
      EXPECT_NEAR(got[1], want[1], 1e-12) << "alpha, step " << t + 1;
      for (int c = 2; c < 5; ++c) EXPECT_EQ(got[c], want[c]) << "ratio " << c << ", step " << t + 1;
      EXPECT_NEAR(got[5], want[5], 1e-12) << "effective bits, step " << t + 1;
      worst_gamma = std::max(worst_gamma, std::fabs(got[0] - want[0]) / want[0]);
      worst_bits = std::max(worst_bits, std::fabs(got[5] - want[5]));
    }
    worst_loss = std::max(worst_loss, worst_relative(losses, want_losses));
  }
  std::printf(
      "[ golden   ] %s: worst relative loss error %.3g, gamma %.3g; "
      "effective bits within %.3g\n",
      variant.c_str(), worst_loss, worst_gamma, worst_bits);
}

TEST(CompareQuantModesGolden, SeedVariantMatchesTheReference) {
  expect_matches_golden("seed", ActivationGrad::none);
}

TEST(CompareQuantModesGolden, SteVariantMatchesTheReference) {
  expect_matches_golden("ste", ActivationGrad::ste);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(CompareQuantModes, RecordsAndConsoleLinesFollowTheReference) {
  CompareQuantModesOptions o = compare_quant_modes_defaults(Config{});
  std::ostringstream console;
  const CompareQuantModesResult r = run_compare_quant_modes(o, console);
  // 3 seeds x 2 modes x steps {1, 4, 8}, then one summary per mode.
  ASSERT_EQ(r.records.size(), 20u);
  const std::vector<std::string> lines = lines_of(console.str());
  ASSERT_EQ(lines.size(), 21u);
  EXPECT_EQ(lines.back(), "[compare] status=passed");
  size_t i = 0;
  for (int64_t seed : {11, 12, 13}) {
    for (const char* mode : {"strict_bitnet", "chimera"}) {
      for (int64_t step : {1, 4, 8}) {
        const Json& rec = r.records[i];
        const std::string& line = lines[i++];
        EXPECT_EQ(rec.at("run_id"), "compare_quant_modes-mode-" + std::string(mode) + "-seed-" +
                                        std::to_string(seed));
        EXPECT_EQ(rec.at("script"), "compare_quant_modes");
        EXPECT_EQ(rec.at("mode"), mode);
        EXPECT_EQ(rec.at("seed"), seed);
        EXPECT_EQ(rec.at("init_seed"), seed + 18);
        EXPECT_EQ(rec.at("step"), step);
        EXPECT_EQ(rec.at("alpha_used"), std::string(mode) == "chimera");
        EXPECT_EQ(rec.at("optimizer_name"), "chimera21");
        EXPECT_DOUBLE_EQ(rec.at("lr").get<double>(), 1e-3);
        const std::string head =
            "[compare] record_type=" + std::string(step == 8 ? "final" : "step") + " mode=" + mode +
            " seed=" + std::to_string(seed) +
            (step == 8 ? " final_loss=" : " step=" + std::to_string(step));
        EXPECT_EQ(line.substr(0, head.size()), head);
        EXPECT_EQ(rec.at("record_type"), step == 8 ? "final" : "step");
      }
    }
  }
  // warm-up = steps: alpha goes from alpha_min at step 1 to alpha_target at the last step
  EXPECT_EQ(r.records[0].at("alpha"), 0.0);
  EXPECT_NEAR(r.records[2].at("alpha").get<double>(), 0.7, 1e-12);
  for (const char* mode : {"chimera", "strict_bitnet"}) {  // sorted, as the reference
    const Json& rec = r.records[i];
    EXPECT_EQ(rec.at("run_id"), "compare_quant_modes-summary-mode-" + std::string(mode));
    EXPECT_EQ(rec.at("record_type"), "summary");
    EXPECT_TRUE(rec.at("seed").is_null() && rec.at("step").is_null() && rec.at("gamma").is_null() &&
                rec.at("plus_ratio").is_null());
    EXPECT_EQ(lines[i++].substr(0, 48),
              "[compare_summary] record_type=summary mode=" + std::string(mode).substr(0, 5));
  }
  // each run's trajectory is complete: one loss and one stats entry per step
  for (const ModeRun& run : r.runs) {
    EXPECT_EQ(run.losses.size(), 8u);
    EXPECT_EQ(run.stats.size(), 8u);
  }
}

TEST(CompareQuantModes, SummaryIsMeanAndPopulationStdOverSeeds) {
  const SeedSpread s = mean_and_population_std({1.0, 2.0, 3.0, 4.0});
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(1.25));  // the sample std would be sqrt(5/3)
  EXPECT_THROW(mean_and_population_std({}), Error);

  std::ostringstream console;
  const CompareQuantModesResult r =
      run_compare_quant_modes(compare_quant_modes_defaults(Config{}), console);
  for (const Json& rec : r.records) {
    if (rec.at("record_type") != "summary") continue;
    std::vector<double> loss, zero, bits;
    for (const ModeRun& run : r.runs) {
      if (run.mode != rec.at("mode")) continue;
      loss.push_back(run.losses.back());
      zero.push_back(run.stats.back().ternary.zero_ratio);
      bits.push_back(run.stats.back().ternary.effective_bits);
    }
    ASSERT_EQ(loss.size(), 3u);
    auto population = [](const std::vector<double>& v) {
      const double m = (v[0] + v[1] + v[2]) / 3;
      return std::sqrt(
          ((v[0] - m) * (v[0] - m) + (v[1] - m) * (v[1] - m) + (v[2] - m) * (v[2] - m)) / 3);
    };
    EXPECT_DOUBLE_EQ(rec.at("mean_final_loss").get<double>(), (loss[0] + loss[1] + loss[2]) / 3);
    EXPECT_DOUBLE_EQ(rec.at("loss").get<double>(), rec.at("mean_final_loss").get<double>());
    EXPECT_DOUBLE_EQ(rec.at("std_final_loss").get<double>(), population(loss));
    EXPECT_GT(rec.at("std_final_loss").get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(rec.at("std_zero_ratio").get<double>(), population(zero));
    EXPECT_DOUBLE_EQ(rec.at("std_effective_bits").get<double>(), population(bits));
    EXPECT_DOUBLE_EQ(rec.at("zero_ratio").get<double>(), rec.at("mean_zero_ratio").get<double>());
    for (const char* key : {"mean_plus_ratio", "std_plus_ratio", "mean_minus_ratio",
                            "std_minus_ratio", "mean_effective_bits", "mean_zero_ratio"})
      EXPECT_TRUE(rec.at(key).is_number()) << key;
  }
}

TEST(CompareQuantModes, SavedStartReplaysTheSameRun) {
  const test::TempDir temp("chimera_cqm_save");
  const fs::path& dir = temp.path;
  CompareQuantModesOptions o = compare_quant_modes_defaults(Config{});
  o.seeds = 2;
  o.steps = 5;
  o.save_init = (dir / "start.safetensors").string();
  std::ostringstream first_console;
  const CompareQuantModesResult first = run_compare_quant_modes(o, first_console);

  const Safetensors saved = read_safetensors(o.save_init);
  EXPECT_EQ(saved.tensors.size(), 2u * (2 + 2 * 2));  // x, target, 2 modes x (weight, bias)
  EXPECT_EQ(saved.at("s1.x").shape(), (Shape{16, 8}));
  EXPECT_EQ(saved.at("s1.target").shape(), (Shape{16, 4}));
  EXPECT_EQ(saved.at("s0.chimera.init.weight_master").shape(), (Shape{4, 8}));
  EXPECT_TRUE(test::all_equal(saved.at("s0.chimera.init.weight_master"),
                              saved.at("s0.strict_bitnet.init.weight_master")));
  EXPECT_EQ(Json::parse(saved.metadata.at("params")).at("steps"), 5);

  o.save_init.clear();
  o.init_from = (dir / "start.safetensors").string();
  std::ostringstream second_console;
  const CompareQuantModesResult second = run_compare_quant_modes(o, second_console);
  ASSERT_EQ(first.runs.size(), second.runs.size());
  for (size_t i = 0; i < first.runs.size(); ++i) {
    EXPECT_EQ(first.runs[i].losses, second.runs[i].losses);
    EXPECT_EQ(first.runs[i].stats.back().gamma, second.runs[i].stats.back().gamma);
  }
  EXPECT_EQ(first_console.str(), second_console.str());
  fs::remove_all(dir);
}

// Runs and returns the error message (empty when nothing was thrown).
std::string error_of(const CompareQuantModesOptions& o) {
  std::ostringstream console;
  try {
    run_compare_quant_modes(o, console);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CompareQuantModes, BadStartFilesAreErrorsNamingTheKeyAndTheFile) {
  const test::TempDir temp("chimera_cqm_bad_start");
  const fs::path& dir = temp.path;
  const Safetensors golden = test::load_golden("traj_compare_quant_modes_seed");
  CompareQuantModesOptions o = golden_options(golden, "seed", ActivationGrad::none);

  std::map<std::string, Tensor> missing = golden.tensors;
  missing.erase("s1.target");
  o.init_from = (dir / "missing.safetensors").string();
  write_safetensors(o.init_from, missing);
  std::string msg = error_of(o);
  EXPECT_NE(msg.find("'s1.target'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.init_from), std::string::npos) << msg;

  std::map<std::string, Tensor> wrong = golden.tensors;
  wrong["s2.chimera.init.bias"] = Tensor({5});
  o.init_from = (dir / "wrong.safetensors").string();
  write_safetensors(o.init_from, wrong);
  msg = error_of(o);
  EXPECT_NE(msg.find("'s2.chimera.init.bias'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[5]"), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.init_from), std::string::npos) << msg;

  o.init_from = golden_path("seed");
  o.in_features = 9;  // the file's x is [16, 8]
  msg = error_of(o);
  EXPECT_NE(msg.find("'s0.x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(o.init_from), std::string::npos) << msg;

  o.in_features = 8;
  o.seeds = 4;  // the file holds three
  msg = error_of(o);
  EXPECT_NE(msg.find("'s3.x'"), std::string::npos) << msg;

  o.seeds = 3;
  o.init_from = (dir / "absent.safetensors").string();
  msg = error_of(o);
  EXPECT_NE(msg.find(o.init_from), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(CompareQuantModes, InvalidOptionsNameTheFlag) {
  const CompareQuantModesOptions ok = compare_quant_modes_defaults(Config{});
  auto with = [&](auto change) {
    CompareQuantModesOptions o = ok;
    change(o);
    return error_of(o);
  };
  EXPECT_NE(with([](auto& o) { o.steps = 0; }).find("--steps must be positive"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.seeds = -1; }).find("--seeds"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.batch_size = 0; }).find("--batch-size"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.in_features = 0; }).find("--in-features"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.out_features = 0; }).find("--out-features"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.lr = -1e-3; }).find("--lr must be non-negative"),
            std::string::npos);
  EXPECT_NE(with([](auto& o) { o.config.quant_modes = {"chimera"}; }).find("quant_modes"),
            std::string::npos);
  EXPECT_EQ(with([](auto& o) { o.lr = 0; }), "");  // lr 0 is allowed, as in the reference
}

// ---- the program ----

test::CliResult run(const std::string& args) {
  return test::run_chimera("compare-quant-modes " + args);
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CompareQuantModesCli, JsonlHasTheSpecFieldsSortedOneObjectPerLine) {
  const test::TempDir temp("chimera_cqm_fields");
  const fs::path& dir = temp.path;
  const fs::path log = dir / "sub" / "log.jsonl";  // parent folders are created
  const test::CliResult r = run("--threads 1 --log-jsonl " + log.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::vector<std::string> lines = lines_of(read_text(log));
  ASSERT_EQ(lines.size(), 20u);
  for (const std::string& line : lines) {
    const Json j = Json::parse(line);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(line, j.dump()) << "keys sorted, compact, one object per line";
    for (const char* key :
         {"run_id",     "script",         "mode",        "record_type",    "seed",
          "init_seed",  "step",           "loss",        "gamma",          "alpha",
          "zero_ratio", "plus_ratio",     "minus_ratio", "effective_bits", "alpha_used",
          "lr",         "optimizer_name", "target_bits", "stat_mode",      "rho_s",
          "rho_psi",    "lambda_gate",    "kappa_min",   "kappa_max",      "timestamp_utc"})
      EXPECT_TRUE(j.contains(key)) << key;
  }
  const Json summary = Json::parse(lines.back());
  EXPECT_EQ(summary.at("record_type"), "summary");
  for (const char* key : {"mean_final_loss", "std_final_loss", "mean_zero_ratio", "std_zero_ratio",
                          "mean_plus_ratio", "std_plus_ratio", "mean_minus_ratio",
                          "std_minus_ratio", "mean_effective_bits", "std_effective_bits"})
    EXPECT_TRUE(summary.contains(key)) << key;
  EXPECT_EQ(lines.front().substr(0, 10), "{\"alpha\":0");
  fs::remove_all(dir);
}

TEST(CompareQuantModesCli, LogIsTruncatedWhenARunStarts) {
  const test::TempDir temp("chimera_cqm_truncate");
  const fs::path& dir = temp.path;
  const fs::path log = dir / "log.jsonl";
  std::ofstream(log) << "{\"old\":1}\n{\"old\":2}\n";
  ASSERT_EQ(run("--threads 1 --seeds 1 --log-jsonl " + log.string()).code, 0);
  EXPECT_EQ(lines_of(read_text(log)).size(), 8u);  // 2 modes x 3 records + 2 summaries
  EXPECT_EQ(read_text(log).find("old"), std::string::npos);
  ASSERT_EQ(run("--threads 1 --seeds 1 --log-jsonl " + log.string()).code, 0);
  EXPECT_EQ(lines_of(read_text(log)).size(), 8u);
  fs::remove_all(dir);
}

TEST(CompareQuantModesCli, InvalidValuesExitNonZeroNamingTheFlagAndLeaveTheLogAlone) {
  const test::TempDir temp("chimera_cqm_invalid");
  const fs::path& dir = temp.path;
  const fs::path log = dir / "log.jsonl";
  const std::string before = "{\"kept\":true}\n";
  const std::pair<std::string, std::string> cases[] = {
      {"--steps 0", "--steps"},
      {"--steps -3", "--steps"},
      {"--seeds 0", "--seeds"},
      {"--batch-size 0", "--batch-size"},
      {"--in-features 0", "--in-features"},
      {"--out-features -1", "--out-features"},
      {"--lr -0.5", "--lr"},
      {"--lr=-1e-3", "--lr"},
      {"--steps abc", "--steps"},
      {"--activation-grad sideways", "--activation-grad"},
      {"--device cuda", "--device"},
      {"--threads 0", "--threads"},
      {"--init-from " + (dir / "absent.safetensors").string(), "absent.safetensors"},
      {"--config " + (dir / "absent.yaml").string(), "absent.yaml"},
      {"--save-init /proc/forbidden/start.safetensors", "--save-init"},
  };
  for (const auto& [args, flag] : cases) {
    std::ofstream(log) << before;
    const test::CliResult r = run(args + " --log-jsonl " + log.string());
    EXPECT_NE(r.code, 0) << args;
    EXPECT_NE(r.out.find(flag), std::string::npos) << args << ": " << r.out;
    EXPECT_EQ(read_text(log), before) << args << ": the log was touched";
    if (r.out.rfind("chimera: error: ", 0) == 0) {  // our own errors are one line
      EXPECT_EQ(lines_of(r.out).size(), 1u) << args << ": " << r.out;
    }
  }
  const test::CliResult unwritable = run("--log-jsonl /proc/forbidden/x.jsonl");
  EXPECT_NE(unwritable.code, 0);
  EXPECT_NE(unwritable.out.find("--log-jsonl"), std::string::npos) << unwritable.out;
  EXPECT_NE(unwritable.out.find("/proc/forbidden/x.jsonl"), std::string::npos) << unwritable.out;
  EXPECT_EQ(lines_of(unwritable.out).size(), 1u) << unwritable.out;
  fs::remove_all(dir);
}

TEST(CompareQuantModesCli, SameSeedSameThreadsSameRecords) {
  const test::TempDir temp("chimera_cqm_determinism");
  const fs::path& dir = temp.path;
  for (int threads : {1, 2}) {
    const fs::path a = dir / "a.jsonl", b = dir / "b.jsonl";
    const std::string t = "--threads " + std::to_string(threads);
    const test::CliResult ra = run(t + " --log-jsonl " + a.string());
    const test::CliResult rb = run(t + " --log-jsonl " + b.string());
    ASSERT_EQ(ra.code, 0) << ra.out;
    ASSERT_EQ(rb.code, 0) << rb.out;
    EXPECT_EQ(ra.out, rb.out);
    const std::vector<std::string> la = lines_of(read_text(a)), lb = lines_of(read_text(b));
    ASSERT_EQ(la.size(), 20u);
    ASSERT_EQ(lb.size(), 20u);
    for (size_t i = 0; i < la.size(); ++i) {
      Json ja = Json::parse(la[i]), jb = Json::parse(lb[i]);
      ja.erase("timestamp_utc");
      jb.erase("timestamp_utc");
      EXPECT_EQ(ja, jb) << "line " << i;
    }
  }
  fs::remove_all(dir);
}

// The command a user runs to replay the reference: its final losses as logged.
TEST(CompareQuantModesCli, InitFromTheGoldenStartReproducesTheReference) {
  const test::TempDir temp("chimera_cqm_golden_cli");
  const fs::path& dir = temp.path;
  const fs::path log = dir / "log.jsonl";
  const test::CliResult r = run("--threads 1 --activation-grad none --init-from " + golden_path("seed") +
                       " --log-jsonl " + log.string());
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("[compare] status=passed"), std::string::npos);
  const Safetensors golden = test::load_golden("traj_compare_quant_modes_seed");
  int finals = 0;
  for (const std::string& line : lines_of(read_text(log))) {
    const Json j = Json::parse(line);
    if (j.at("record_type") != "final") continue;
    const std::string key = "s" + std::to_string(j.at("seed").get<int64_t>() - 11) + "." +
                            j.at("mode").get<std::string>() + ".losses";
    const Tensor want = golden.at(key).to(DType::f64);
    const double expected = want.data<double>()[want.numel() - 1];
    EXPECT_NEAR(j.at("loss").get<double>(), expected, 1e-4 * expected) << key;
    ++finals;
  }
  EXPECT_EQ(finals, 6);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chimera
