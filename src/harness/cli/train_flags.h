// The flags train-resnet and cifar-ablation share (the reference's trainer flags and ours).
#pragma once

#include <CLI/CLI.hpp>

#include "harness/experiments/train_resnet.h"

namespace chimera {

struct TrainCliArgs {
  TrainResnetArgs run;
  std::string config_path;
  int threads = 0;
  bool no_progress = false;
};

void add_shared_train_flags(CLI::App& cmd, TrainCliArgs& a);
// Applies --threads and --config; call first in the callback.
void apply_shared_train_flags(TrainCliArgs& a);

}  // namespace chimera
