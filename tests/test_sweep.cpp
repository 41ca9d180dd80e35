// `chimera sweep`: the grid, the per-run flags, a dozen runs with one failing, the merged log and
// report, and a rerun that skips what finished and retries what failed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "engine/io/atomic_file.h"
#include "harness/experiments/sweep.h"
#include "harness/log/jsonl.h"
#include "test_util.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, GridParsesInOrderAndRefusesMalformedTokens) {
  const auto axes = parse_grid("mode=strict_bitnet,chimera  target_bits=1.0,1.32 seed=1,2,3");
  ASSERT_EQ(axes.size(), 3u);
  EXPECT_EQ(axes[1].key, "target_bits");
  EXPECT_EQ(axes[1].values, (std::vector<std::string>{"1.0", "1.32"}));
  for (const auto& [grid, expect] : std::map<std::string, std::string>{
           {"", "--grid is empty"},
           {"mode", "is not key=value"},
           {"=a", "is not key=value"},
           {"mode=a,,b", "has an empty value"},
           {"mode=a,", "has an empty value"},
           {"mode=a mode=b", "appears twice"},
           {"seed=1,1", "lists '1' twice"},
           {"Mode=a", "must be a flag name"}}) {
    const std::string e = test::error_of([&] { parse_grid(grid); });
    EXPECT_NE(e.find(expect), std::string::npos) << grid << ": " << e;
  }
}

TEST(Sweep, EachConfigurationGetsItsFlagsNameAndFiles) {
  const auto runs = expand_grid(parse_grid("mode=strict_bitnet,chimera target_bits=1.0,1.32"),
                                {"train-resnet", "--epochs", "1"}, "out", 1);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[1].name, "mode-strict-bitnet_target_bits-1.32");  // first axis slowest
  EXPECT_EQ(runs[1].args,
            (std::vector<std::string>{"train-resnet", "--epochs", "1", "--mode", "strict_bitnet",
                                      "--target-bits", "1.32", "--log-jsonl",
                                      "out/runs/mode-strict-bitnet_target_bits-1.32.jsonl",
                                      "--checkpoint-dir", "out/runs/mode-strict-bitnet_target_bits-1.32",
                                      "--run-name", "mode-strict-bitnet_target_bits-1.32",
                                      "--threads", "1"}));
  const std::string twice = test::error_of(
      [] { expand_grid(parse_grid("seed=1"), {"train-resnet", "--seed", "2"}, "o", 0); });
  EXPECT_NE(twice.find("sets --seed, which the grid also sets"), std::string::npos) << twice;
  const std::string own = test::error_of(
      [] { expand_grid(parse_grid("seed=1"), {"train-resnet", "--log-jsonl", "x"}, "o", 0); });
  EXPECT_NE(own.find("may not set --log-jsonl"), std::string::npos) << own;
}

std::vector<Json> read_jsonl(const fs::path& p) {
  std::vector<Json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(Json::parse(line));
  return out;
}

TEST(Sweep, ADozenRunsOneFailingThenARerunSkipsTheFinished) {
  test::TempDir dir("chimera_sweep");
  const std::string out = dir.path.string();
  const std::string cmd = "sweep --grid 'mode=strict_bitnet,chimera seed=1,2,3,4,5,6' --jobs 2 --out " +
                          out + " -- train-resnet --dataset synthetic --epochs 1 --max-batches 2 "
                          "--eval-max-batches 1";
  // One configuration cannot write its log: a folder sits where the file goes.
  const std::string blocked = "mode-chimera_seed-4";
  fs::create_directories(dir.path / "runs" / (blocked + ".jsonl"));

  const test::CliResult first = test::run_chimera(cmd);
  EXPECT_EQ(first.code, 1) << first.out;
  EXPECT_NE(first.out.find("1 configuration(s) failed"), std::string::npos) << first.out;
  const std::vector<Json> status = read_jsonl(dir.path / "sweep.jsonl");
  ASSERT_EQ(status.size(), 12u);
  int failed = 0;
  for (const Json& s : status) {
    if (s["status"] == "failed") {
      ++failed;
      EXPECT_EQ(s["run"], blocked);
      EXPECT_NE(s["error"].get<std::string>().find("--log-jsonl"), std::string::npos) << s;
    } else {
      EXPECT_EQ(s["status"], "finished") << s;
    }
  }
  EXPECT_EQ(failed, 1);
  // The merged log: the 11 finished runs' records, each tagged with its run and grid values.
  std::set<std::string> merged_runs;
  for (const Json& r : read_jsonl(dir.path / "merged.jsonl")) {
    merged_runs.insert(r["sweep_run"]);
    EXPECT_EQ(r["sweep_values"]["mode"], r["mode"]) << r["sweep_run"];
    if (r["seed"].is_number()) {
      EXPECT_EQ(r["sweep_values"]["seed"], std::to_string(r["seed"].get<int>()));
    }
  }
  EXPECT_EQ(merged_runs.size(), 11u);
  EXPECT_TRUE(fs::is_regular_file(dir.path / "report" / "index.html"));

  // Fixed, run again: the 11 are skipped (their logs complete), the failed one runs.
  fs::remove(dir.path / "runs" / (blocked + ".jsonl"));
  const std::string before = read_file((dir.path / "runs" / "mode-chimera_seed-1.jsonl").string());
  const test::CliResult second = test::run_chimera(cmd);
  EXPECT_EQ(second.code, 0) << second.out;
  EXPECT_NE(second.out.find("finished=1 skipped=11 failed=0"), std::string::npos) << second.out;
  EXPECT_EQ(read_file((dir.path / "runs" / "mode-chimera_seed-1.jsonl").string()), before);
  merged_runs.clear();
  for (const Json& r : read_jsonl(dir.path / "merged.jsonl")) merged_runs.insert(r["sweep_run"]);
  EXPECT_EQ(merged_runs.size(), 12u);
}

#ifdef CHIMERA_MPIRUN
// The same sweep as an MPI task farm on two ranks (loopback): the same runs finish, the same one
// fails, and the merged log holds the same records as a local sweep's.
TEST(SweepMpi, TwoRankTaskFarmMatchesTheLocalSweep) {
  test::TempDir farm_dir("chimera_sweep_farm"), local_dir("chimera_sweep_local");
  const std::string grid = "--grid 'mode=strict_bitnet,chimera seed=1,2,3,4,5,6' ";
  const std::string run = " -- train-resnet --dataset synthetic --epochs 1 --max-batches 2 "
                          "--eval-max-batches 1 --threads 1";
  const std::string blocked = "mode-strict-bitnet_seed-5.jsonl";
  fs::create_directories(farm_dir.path / "runs" / blocked);
  fs::create_directories(local_dir.path / "runs" / blocked);
  const test::CliResult farm = test::run_command(
      std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
         "OMPI_MCA_btl_vader_single_copy_mechanism=none ") + CHIMERA_MPIRUN +
      " -np 2 --oversubscribe " + CHIMERA_BINARY + " sweep " + grid + "--out " +
      farm_dir.path.string() + run);
  EXPECT_NE(farm.code, 0);
  EXPECT_NE(farm.out.find("finished=11 skipped=0 failed=1"), std::string::npos) << farm.out;
  const test::CliResult local =
      test::run_chimera("sweep " + grid + "--out " + local_dir.path.string() + run);
  EXPECT_NE(local.out.find("finished=11 skipped=0 failed=1"), std::string::npos) << local.out;
  // Records equal apart from wall-clock fields and paths.
  auto normalised = [](const fs::path& p) {
    std::vector<Json> out = read_jsonl(p);
    for (Json& r : out)
      for (const char* k : {"timestamp_utc", "train_images_per_s", "eval_images_per_s"}) r.erase(k);
    return out;
  };
  EXPECT_EQ(normalised(farm_dir.path / "merged.jsonl"), normalised(local_dir.path / "merged.jsonl"));
  for (const Json& s : read_jsonl(farm_dir.path / "sweep.jsonl"))
    EXPECT_EQ(s["status"], s["run"] == "mode-strict-bitnet_seed-5" ? "failed" : "finished") << s;
}
#endif

}  // namespace
}  // namespace chimera
