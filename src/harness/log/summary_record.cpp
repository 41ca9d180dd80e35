#include "harness/log/summary_record.h"

#include <cmath>

namespace chimera {

// Summed in order and divided by n, then the mean of squared deviations: numpy's arithmetic for
// the handful of seeds a summary covers.
SeedSpread mean_and_population_std(const std::vector<double>& values) {
  CHIMERA_CHECK(!values.empty(), "a summary needs at least one value");
  const double n = static_cast<double>(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / n)};
}

Json summary_record(const RecordContext& ctx, const Config& config, const SummaryValues& v) {
  Json r = benchmark_record(ctx, config, "summary", 0, v.final_loss.mean, LayerStats{});
  for (const char* key :
       {"seed", "init_seed", "step", "gamma", "alpha", "plus_ratio", "minus_ratio"})
    r[key] = nullptr;
  r["zero_ratio"] = v.zero_ratio.mean;
  r["effective_bits"] = v.effective_bits.mean;
  const std::pair<const char*, const SeedSpread*> spreads[] = {
      {"final_loss", &v.final_loss},
      {"zero_ratio", &v.zero_ratio},
      {"plus_ratio", &v.plus_ratio},
      {"minus_ratio", &v.minus_ratio},
      {"effective_bits", &v.effective_bits}};
  for (const auto& [name, spread] : spreads) {
    r[std::string("mean_") + name] = spread->mean;
    r[std::string("std_") + name] = spread->std;
  }
  return r;
}

}  // namespace chimera
