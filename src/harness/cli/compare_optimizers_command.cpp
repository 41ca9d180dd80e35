#include <iostream>

#include "harness/cli/commands.h"
#include "harness/cli/optimizer_stress_flags.h"
#include "harness/experiments/optimizer_stress.h"

namespace chimera {

static void register_compare_optimizers(CLI::App& app) {
  static OptimizerStressFlags flags;
  flags = OptimizerStressFlags{};
  auto* cmd = app.add_subcommand(
      "compare-optimizers",
      "Adam and six Chimera21 variants from the same weights on one stress problem");
  flags.add_to(*cmd);
  cmd->add_option("--problem", flags.options.problem,
                  "regression, sparse_relu, noisy_quadratic or saddle")
      ->capture_default_str();
  cmd->add_option("--log-jsonl", flags.options.log_jsonl,
                  "also write the records to this JSONL file");
  cmd->add_option("--init-from", flags.options.init_from,
                  "read x, target, init.* and noise.* from this safetensors file (the layout of "
                  "traj_compare_optimizers_<problem>.safetensors) instead of drawing them; the "
                  "shape flags must match it");
  cmd->add_option("--save-init", flags.options.save_init,
                  "write the run's x, target, init.* and noise.* to this safetensors file");
  cmd->callback([cmd] { run_compare_optimizers(flags.resolve(*cmd), std::cout); });
}

static const CommandRegistration registration("compare-optimizers", register_compare_optimizers);

}  // namespace chimera
