#include "harness/experiments/smoke.h"

#include <set>

#include "engine/ops/ops.h"
#include "harness/log/records.h"
#include "model/layers/bit_linear.h"
#include "train/optim/chimera21.h"

namespace chimera {

void run_smoke(const SmokeOptions& options, std::ostream& out) {
  const Config& config = options.config;
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

  JsonlWriter log = options.log_jsonl.empty() ? JsonlWriter() : JsonlWriter(options.log_jsonl, false);
  const RecordContext ctx{"run_smoke-seed-7", "run_smoke", "chimera", seed, seed,
                          config.optimizer.lr, "chimera21", std::nullopt};
  for (int64_t step = 1; step <= steps; ++step) {
    optimizer.zero_grad();
    const Var loss = mse_loss(layer.forward(Var(x)), target);
    backward(loss);
    optimizer.step();
    if (log_steps.count(step)) {
      const Json record =
          benchmark_record(ctx, config, "step", step, loss.value().item(), layer.last_stats());
      out << format_step_record("smoke", record) << "\n";
      log.write(record);
    }
  }
  out << "[smoke] status=passed\n";
}

}  // namespace chimera
