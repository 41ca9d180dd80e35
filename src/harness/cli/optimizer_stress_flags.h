// The flags compare-optimizers and stress-suite share (the reference's, plus --threads and
// --config), bound to an OptimizerStressOptions whose defaults are the command's own.
#pragma once

#include <string>

#include "harness/cli/commands.h"
#include "harness/experiments/optimizer_stress.h"

namespace chimera {

struct OptimizerStressFlags {
  OptimizerStressFlags() = default;  // compare-optimizers' defaults
  explicit OptimizerStressFlags(OptimizerStressOptions defaults) : options(std::move(defaults)) {}

  void add_to(CLI::App& cmd);
  // The options as parsed: --config loaded, --lr taken from it unless given, threads applied.
  OptimizerStressOptions resolve(const CLI::App& cmd);

  OptimizerStressOptions options;
  int threads = 0;
  std::string config_path;
  double lr = 0;
};

}  // namespace chimera
