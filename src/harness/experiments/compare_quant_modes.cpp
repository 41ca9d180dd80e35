#include "harness/experiments/compare_quant_modes.h"

#include <algorithm>
#include <set>

#include "engine/ops/ops.h"
#include "harness/log/summary_record.h"
#include "model/layers/bit_linear.h"
#include "train/optim/chimera21.h"

namespace chimera {

static const char* const kScript = "compare_quant_modes";
static const char* const kPrefix = "compare";

void CompareQuantModesOptions::validate() const {
  const std::pair<const char*, int64_t> sizes[] = {{"--steps", steps},
                                                   {"--seeds", seeds},
                                                   {"--batch-size", batch_size},
                                                   {"--in-features", in_features},
                                                   {"--out-features", out_features}};
  for (const auto& [flag, value] : sizes)
    CHIMERA_CHECK(value > 0, flag, " must be positive, got ", value);
  CHIMERA_CHECK(lr >= 0, "--lr must be non-negative, got ", lr);
  const auto& modes = config.quant_modes;
  CHIMERA_CHECK(std::count(modes.begin(), modes.end(), "strict_bitnet") > 0 &&
                    std::count(modes.begin(), modes.end(), "chimera") > 0,
                "config '", config.source, "': quant_modes must include strict_bitnet and chimera");
  config.layer.validate();
}

CompareQuantModesOptions compare_quant_modes_defaults(const Config& config) {
  CompareQuantModesOptions o;
  o.config = config;
  o.steps = config.benchmark.steps;
  o.seeds = config.benchmark.seeds;
  o.batch_size = config.benchmark.batch_size;
  o.in_features = config.benchmark.in_features;
  o.out_features = config.benchmark.out_features;
  o.lr = config.optimizer.lr;
  return o;
}

static RecordContext record_context(std::string run_id, const std::string& mode, int64_t seed,
                                    int64_t init_seed, double lr) {
  RecordContext ctx;
  ctx.run_id = std::move(run_id);
  ctx.script = kScript;
  ctx.mode = mode;
  ctx.seed = seed;
  ctx.init_seed = init_seed;
  ctx.lr = lr;
  return ctx;
}

// One mode from one seed's start. Records at steps 1, steps/2 and steps (the last a "final").
static ModeRun run_mode(const CompareQuantModesOptions& options, const SeedStart& start,
                        const std::string& mode, JsonlWriter& log, std::ostream& out,
                        std::vector<Json>& records) {
  BitLayerOptions layer_options = options.config.layer;
  layer_options.warmup_steps = options.steps;
  layer_options.quant_mode = parse_quant_mode(mode);
  // The layer's own draw is replaced by the start's weights; the quantizer state is rebuilt
  // from them, since scale_ema starts at abs_stat(weight_master).
  Rng unused(static_cast<uint64_t>(start.init_seed));
  BitLinear layer(options.in_features, options.out_features, true, layer_options, unused);
  const ModeStart& init = start.modes.at(mode);
  layer.weight_master.value().copy_from(init.weight_master);
  layer.bias->value().copy_from(init.bias);
  layer.quant = TernaryWeightState(layer_options, init.weight_master);

  Chimera21Options optimizer_options = options.config.optimizer;
  optimizer_options.lr = options.lr;
  Chimera21 optimizer(layer.parameters(), optimizer_options);

  const RecordContext ctx =
      record_context(std::string(kScript) + "-mode-" + mode + "-seed-" + std::to_string(start.seed),
                     mode, start.seed, start.init_seed, options.lr);
  const int64_t steps = options.steps;
  const std::set<int64_t> log_steps{1, std::max<int64_t>(1, steps / 2), steps};
  const Var x(start.x);
  ModeRun run{mode, start.seed, start.init_seed, {}, {}};
  for (int64_t step = 1; step <= steps; ++step) {
    optimizer.zero_grad();
    const Var loss = mse_loss(layer.forward(x), start.target);
    backward(loss);
    optimizer.step();
    run.losses.push_back(loss.value().item());
    run.stats.push_back(layer.last_stats());
    if (log_steps.count(step)) {
      const bool final = step == steps;
      Json record = benchmark_record(ctx, options.config, final ? "final" : "step", step,
                                     run.losses.back(), run.stats.back());
      out << (final ? format_final_record(kPrefix, record) : format_step_record(kPrefix, record))
          << "\n";
      log.write(record);
      records.push_back(std::move(record));
    }
  }
  return run;
}

// Per mode, in name order as the reference sorts them: mean and population std over seeds.
static void write_summaries(const CompareQuantModesOptions& options,
                            const std::vector<ModeRun>& runs, JsonlWriter& log, std::ostream& out,
                            std::vector<Json>& records) {
  std::set<std::string> modes(options.config.quant_modes.begin(), options.config.quant_modes.end());
  for (const std::string& mode : modes) {
    std::vector<double> loss, zero, plus, minus, bits;
    for (const ModeRun& run : runs) {
      if (run.mode != mode) continue;
      const LayerStats& s = run.stats.back();
      loss.push_back(run.losses.back());
      zero.push_back(s.ternary.zero_ratio);
      plus.push_back(s.ternary.plus_ratio);
      minus.push_back(s.ternary.minus_ratio);
      bits.push_back(s.ternary.effective_bits);
    }
    const SummaryValues values{mean_and_population_std(loss), mean_and_population_std(zero),
                               mean_and_population_std(plus), mean_and_population_std(minus),
                               mean_and_population_std(bits)};
    const RecordContext ctx =
        record_context(std::string(kScript) + "-summary-mode-" + mode, mode, 0, 0, options.lr);
    Json record = summary_record(ctx, options.config, values);
    out << format_summary_record(std::string(kPrefix) + "_summary", record) << "\n";
    log.write(record);
    records.push_back(std::move(record));
  }
}

CompareQuantModesResult run_compare_quant_modes(const CompareQuantModesOptions& options,
                                                std::ostream& out) {
  options.validate();
  const std::vector<SeedStart> start = options.init_from.empty()
                                           ? draw_compare_start(options)
                                           : load_compare_start(options.init_from, options);
  // Everything that can fail is checked before the log is truncated: its path is opened
  // for appending (which changes nothing in an existing file), then the start is saved.
  if (!options.log_jsonl.empty()) {
    const JsonlWriter probe(options.log_jsonl, true);
  }
  if (!options.save_init.empty()) save_compare_start(options.save_init, start, options);
  JsonlWriter log =
      options.log_jsonl.empty() ? JsonlWriter() : JsonlWriter(options.log_jsonl, false);

  CompareQuantModesResult result;
  for (const SeedStart& s : start)
    for (const std::string& mode : options.config.quant_modes)
      result.runs.push_back(run_mode(options, s, mode, log, out, result.records));
  write_summaries(options, result.runs, log, out, result.records);
  out << "[" << kPrefix << "] status=passed\n";
  return result;
}

}  // namespace chimera
