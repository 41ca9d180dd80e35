// The optimizer comparison's records (SPEC §6) and console lines, field for field as the
// reference's compare_optimizers and run_optimizer_stress_suite write them.
#pragma once

#include <string>
#include <vector>

#include "harness/log/jsonl.h"
#include "train/optim/optimizer.h"

namespace chimera {

inline constexpr const char* kCompareOptimizersScript = "compare_optimizers";

struct StepContext {
  std::string optimizer_name, problem;
  int64_t seed = 0;
  double lr = 0;
};

// One "step" record: loss, step time, nine of Chimera21's diagnostics (null for Adam or when
// the step updated nothing), state memory, psi bytes and their ratio to fp32 psi (null when the
// optimizer keeps no psi), the policy labels, lr, seed, run_id, script, timestamp_utc.
Json optimizer_step_record(const StepContext& ctx, const Optimizer& optimizer, int64_t step,
                           double loss, double step_time_ms);

// The "summary" record of one variant's step records (at least one). Step times after
// `timing_warmup_steps` give the after-warm-up mean and median; when no step is past the
// warm-up, all steps count. Means and maxima of diagnostics skip nulls and are null when every
// value is.
Json optimizer_summary_record(const std::vector<Json>& steps, int64_t timing_warmup_steps);

// "[optimizer] optimizer_name=... step=... loss=%.6f mean_kappa=... mean_noise_ratio=...
// collision_score=..."
std::string format_optimizer_step(const Json& step_record);
// The compare_optimizers summary table: header and one line per summary ("[optimizer_summary]").
std::string optimizer_summary_header();
std::string format_optimizer_summary(const Json& summary);
// The stress suite's table ("[optimizer_stress_suite]"), which adds the problem and leaves out
// the mean active effective lr.
std::string stress_suite_header();
std::string format_stress_suite_summary(const Json& summary);

}  // namespace chimera
