// chimera smoke: BitLinear 8->4 in chimera mode, batch 16, warm-up = steps, seed 7, Chimera21,
// MSE to a random target; prints steps 1, steps/2 and steps in the reference's console form.
#include <set>

#include "engine/ops/ops.h"
#include "harness/cli/commands.h"
#include "harness/experiments/config.h"
#include "harness/log/records.h"
#include "model/layers/bit_linear.h"
#include "train/optim/chimera21.h"

namespace chimera {

namespace {

struct SmokeArgs {
  int threads = 0;
  std::string config_path;
  std::string log_jsonl;
};

void run_smoke(const SmokeArgs& args) {
  apply_threads(args.threads);
  const Config config = args.config_path.empty() ? Config{} : load_config(args.config_path);
  const int64_t seed = 7;
  const int64_t steps = config.benchmark.steps;
  const std::set<int64_t> log_steps{1, std::max<int64_t>(1, steps / 2), steps};

  Rng rng(static_cast<uint64_t>(seed));
  BitLayerOptions layer_options = config.layer;
  layer_options.warmup_steps = steps;
  layer_options.quant_mode = QuantMode::chimera;
  BitLinear layer(config.benchmark.in_features, config.benchmark.out_features, true,
                  layer_options, rng);
  Chimera21 optimizer(layer.parameters(), config.optimizer);
  Tensor x({config.benchmark.batch_size, layer.in_features});
  Tensor target({config.benchmark.batch_size, layer.out_features});
  rng.fill_normal(x);
  rng.fill_normal(target);

  JsonlWriter log = args.log_jsonl.empty() ? JsonlWriter() : JsonlWriter(args.log_jsonl, false);
  const RecordContext ctx{"run_smoke-seed-7", "run_smoke", "chimera", seed, seed,
                          config.optimizer.lr};
  for (int64_t step = 1; step <= steps; ++step) {
    optimizer.zero_grad();
    const Var loss = mse_loss(layer.forward(Var(x)), target);
    backward(loss);
    optimizer.step();
    if (log_steps.count(step)) {
      const Json record =
          benchmark_record(ctx, config, "step", step, loss.value().item(), layer.last_stats());
      std::printf("%s\n", format_step_record("smoke", record).c_str());
      log.write(record);
    }
  }
  std::printf("[smoke] status=passed\n");
}

}  // namespace

void register_smoke(CLI::App& app) {
  static SmokeArgs args;
  auto* cmd = app.add_subcommand("smoke", "BitLinear 8->4 smoke run: Chimera21, 8 steps, seed 7");
  add_threads_option(*cmd, args.threads);
  cmd->add_option("--config", args.config_path, "YAML config (default: built-in = configs/default.yaml)");
  cmd->add_option("--log-jsonl", args.log_jsonl, "also write the records to this JSONL file");
  cmd->callback([] { run_smoke(args); });
}

}  // namespace chimera
