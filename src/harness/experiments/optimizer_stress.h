// The optimizer comparison and the optimizer stress suite (SPEC §7): the seven variants of
// kOptimizerVariants trained from the same initial weights on one stress problem (compare), or
// on all four problems into one log (suite), with the reference's records and console lines.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "harness/experiments/config.h"
#include "harness/experiments/stress_problem.h"
#include "harness/log/jsonl.h"

namespace chimera {

// compare-optimizers' defaults; stress_suite_defaults() has the suite's.
struct OptimizerStressOptions {
  Config config;  // lr default and the chimera21 variants' settings
  int64_t steps = 20;
  int64_t seed = 123;
  StressShape shape;
  std::optional<double> lr;            // unset: config.optimizer.lr
  std::string problem = "regression";  // ignored by the suite, which runs all four
  double noise_scale = 1.0;
  double sparsity = 0.5;
  int64_t timing_warmup_steps = 0;
  std::string log_jsonl;    // empty: no log
  bool append_log = false;  // false: the log is truncated when the run starts
  std::string init_from;    // compare only: data, weights and noise from this file
  std::string save_init;    // compare only: write them to this file
};

// 10 steps, noise scale 2.0, sparsity 0.7, log outputs/optimizer_stress_suite.jsonl.
OptimizerStressOptions stress_suite_defaults();

// Throws for the first invalid setting, naming its flag ("--steps must be positive, got 0").
void validate_stress_options(const OptimizerStressOptions& options);

struct VariantRun {
  std::string optimizer_name;
  std::vector<Json> steps;  // one "step" record per step
  Json summary;             // the "summary" record
  // Chimera21's full diagnostics after the last step (SPEC order); empty for adam.
  std::vector<std::pair<std::string, double>> final_diagnostics;
};

// Validates everything, builds (or loads) the data, saves it if asked, then truncates the log
// (unless appending) and runs every variant in kOptimizerVariants order. Console lines go to
// `out`; the records are both logged and returned.
std::vector<VariantRun> run_compare_optimizers(const OptimizerStressOptions& options,
                                               std::ostream& out);

struct ProblemRuns {
  StressProblem problem;
  std::vector<VariantRun> runs;
};

// All four problems in kStressProblems order (options.problem is not used; init_from and
// save_init must be empty), into one log truncated once at the start, then the suite's summary
// table.
std::vector<ProblemRuns> run_stress_suite(const OptimizerStressOptions& options, std::ostream& out);

}  // namespace chimera
