#include "harness/cli/optimizer_stress_flags.h"

namespace chimera {

void OptimizerStressFlags::add_to(CLI::App& cmd) {
  add_threads_option(cmd, threads);
  cmd.add_option("--config", config_path,
                 "YAML config (default: built-in, equal to configs/default.yaml)");
  cmd.add_option("--steps", options.steps, "training steps per variant")->capture_default_str();
  cmd.add_option("--seed", options.seed, "seed of data, weights and noise")->capture_default_str();
  cmd.add_option("--batch-size", options.shape.batch_size, "rows of x (one batch, every step)")
      ->capture_default_str();
  cmd.add_option("--in-features", options.shape.in_features, "MLP inputs")->capture_default_str();
  cmd.add_option("--hidden-features", options.shape.hidden_features, "MLP hidden units")
      ->capture_default_str();
  cmd.add_option("--lr", lr, "learning rate (default: the config's lr, 0.001)");
  cmd.add_option("--noise-scale", options.noise_scale,
                 "target noise is 0.05 * this; noisy_quadratic's gradient noise is this")
      ->capture_default_str();
  cmd.add_option("--sparsity", options.sparsity, "sparse_relu: probability an input is masked")
      ->capture_default_str();
  cmd.add_option("--timing-warmup-steps", options.timing_warmup_steps,
                 "steps left out of the summaries' after-warm-up step times")
      ->capture_default_str();
}

OptimizerStressOptions OptimizerStressFlags::resolve(const CLI::App& cmd) {
  OptimizerStressOptions resolved = options;
  if (!config_path.empty()) resolved.config = load_config(config_path);
  if (cmd.count("--lr")) resolved.lr = lr;
  apply_threads(threads);
  return resolved;
}

}  // namespace chimera
