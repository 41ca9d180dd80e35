#include <iostream>

#include "harness/cli/commands.h"
#include "harness/cli/train_flags.h"
#include "harness/experiments/cifar_ablation.h"

namespace chimera {

static void register_cifar_ablation(CLI::App& app) {
  static TrainCliArgs a;
  a = TrainCliArgs{};
  a.run.log_jsonl = "outputs/cifar_ablation.jsonl";
  a.run.controller_affects = "alpha_override";
  auto* cmd = app.add_subcommand(
      "cifar-ablation", "fp32_baseline/sgd, strict_bitnet/chimera21, chimera/chimera21 into one log");
  add_shared_train_flags(*cmd, a);
  cmd->callback([] {
    apply_shared_train_flags(a);
    cifar_ablation(a.run, std::cout);
  });
}

static const CommandRegistration registration("cifar-ablation", register_cifar_ablation);

}  // namespace chimera
