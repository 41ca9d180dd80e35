#include <iostream>

#include "harness/cli/commands.h"
#include "harness/cli/optimizer_stress_flags.h"
#include "harness/experiments/optimizer_stress.h"

namespace chimera {

static void register_stress_suite(CLI::App& app) {
  static OptimizerStressFlags flags(stress_suite_defaults());
  flags = OptimizerStressFlags(stress_suite_defaults());
  auto* cmd = app.add_subcommand(
      "stress-suite", "compare-optimizers on all four stress problems into one JSONL log");
  flags.add_to(*cmd);
  cmd->add_option("--log-jsonl", flags.options.log_jsonl,
                  "JSONL log for all four problems (emptied at the start)")
      ->capture_default_str();
  cmd->callback([cmd] { run_stress_suite(flags.resolve(*cmd), std::cout); });
}

static const CommandRegistration registration("stress-suite", register_stress_suite);

}  // namespace chimera
