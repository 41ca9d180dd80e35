// The chimera program as a user runs it: exit codes, messages, output, determinism.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace {

using chimera::test::CliResult;
using chimera::test::TempDir;

CliResult run(const std::string& args) { return chimera::test::run_chimera(args); }

int count_lines_with(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

TEST(Cli, VersionAndHelp) {
  const CliResult v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("chimera 0."), std::string::npos) << v.out;
  const CliResult h = run("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("smoke"), std::string::npos) << h.out;
}

TEST(Cli, SmokePrintsThreeRecordsAndPasses) {
  const CliResult r = run("smoke --threads 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(count_lines_with(r.out, "[smoke] record_type=step mode=chimera seed=7 step="), 3);
  EXPECT_NE(r.out.find(" step=1 "), std::string::npos);
  EXPECT_NE(r.out.find(" step=4 "), std::string::npos);
  EXPECT_NE(r.out.find(" step=8 "), std::string::npos);
  // warm-up = steps: the first forward uses alpha_min, the last alpha_target
  EXPECT_NE(r.out.find("step=1 loss="), std::string::npos);
  EXPECT_NE(r.out.find("alpha=0.700000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[smoke] status=passed"), std::string::npos);
}

TEST(Cli, SameSeedSameThreadsSameResults) {
  const TempDir temp("chimera_cli_det");
  const auto& dir = temp.path;
  for (int threads : {1, 2}) {
    const std::string a = (dir / "a.jsonl").string(), b = (dir / "b.jsonl").string();
    const CliResult ra = run("smoke --threads " + std::to_string(threads) + " --log-jsonl " + a);
    const CliResult rb = run("smoke --threads " + std::to_string(threads) + " --log-jsonl " + b);
    ASSERT_EQ(ra.code, 0) << ra.out;
    ASSERT_EQ(rb.code, 0) << rb.out;
    EXPECT_EQ(ra.out, rb.out);
    std::ifstream fa(a), fb(b);
    std::string la, lb;
    int lines = 0;
    while (std::getline(fa, la) && std::getline(fb, lb)) {
      auto ja = nlohmann::json::parse(la), jb = nlohmann::json::parse(lb);
      ja.erase("timestamp_utc");
      jb.erase("timestamp_utc");
      EXPECT_EQ(ja, jb);
      ++lines;
    }
    EXPECT_EQ(lines, 3);
  }
}

TEST(Cli, SmokeJsonlHasTheReferenceFieldsSorted) {
  const TempDir dir("chimera_cli_fields");
  const auto path = dir.path / "fields.jsonl";
  ASSERT_EQ(run("smoke --log-jsonl " + path.string()).code, 0);
  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto j = nlohmann::json::parse(line);
  for (const char* key :
       {"run_id", "script", "mode", "record_type", "seed", "init_seed", "step", "loss", "gamma",
        "alpha", "zero_ratio", "plus_ratio", "minus_ratio", "effective_bits", "alpha_used", "lr",
        "optimizer_name", "target_bits", "stat_mode", "rho_s", "rho_psi", "lambda_gate",
        "kappa_min", "kappa_max", "timestamp_utc"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(line.substr(0, 10), "{\"alpha\":0");  // keys sorted, as json.dumps(sort_keys=True)
}

TEST(Cli, BadInputIsAOneLineErrorWithNonZeroExit) {
  const CliResult t = run("smoke --threads 0");
  EXPECT_NE(t.code, 0);
  EXPECT_NE(t.out.find("--threads"), std::string::npos) << t.out;
  const CliResult c = run("smoke --config /nonexistent/x.yaml");
  EXPECT_NE(c.code, 0);
  EXPECT_NE(c.out.find("/nonexistent/x.yaml"), std::string::npos) << c.out;
  const CliResult u = run("no-such-command");
  EXPECT_NE(u.code, 0);
  const CliResult l = run("smoke --log-jsonl /proc/forbidden/x.jsonl");
  EXPECT_NE(l.code, 0);
  EXPECT_NE(l.out.find("/proc/forbidden/x.jsonl"), std::string::npos) << l.out;
}

}  // namespace
