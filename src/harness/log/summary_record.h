// Per-mode summary records (SPEC §6): the mean and population std over seeds of the final loss,
// ternary ratios and effective bits, next to the benchmark record's fields.
#pragma once

#include <vector>

#include "harness/log/records.h"

namespace chimera {

struct SeedSpread {
  double mean = 0, std = 0;  // std over the population (numpy's default, ddof = 0)
};
SeedSpread mean_and_population_std(const std::vector<double>& values);  // values non-empty

struct SummaryValues {
  SeedSpread final_loss, zero_ratio, plus_ratio, minus_ratio, effective_bits;
};

// record_type "summary"; ctx.seed and ctx.init_seed are not used: seed, init_seed, step, gamma,
// alpha, plus_ratio and minus_ratio are null, loss / zero_ratio / effective_bits hold the means.
Json summary_record(const RecordContext& ctx, const Config& config, const SummaryValues& values);

}  // namespace chimera
