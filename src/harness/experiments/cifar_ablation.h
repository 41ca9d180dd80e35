// `chimera cifar-ablation` (SPEC §5): three runs into one log — fp32_baseline with sgd,
// strict_bitnet with chimera21, chimera with chimera21 and sparse-branch control — with seeds
// seed, seed + 1, seed + 2, as the reference's run_cifar_ablation.py.
#pragma once

#include <ostream>

#include "harness/experiments/train_resnet.h"

namespace chimera {

// `base` carries the shared flags; mode, optimizer, seed and run name are set per run. The log
// is truncated once, then every run appends to it. Returns each run's summary record.
std::vector<Json> cifar_ablation(const TrainResnetArgs& base, std::ostream& out);

}  // namespace chimera
