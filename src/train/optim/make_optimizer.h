// The trainer's optimizer choice (SPEC §5): chimera21 with the config's settings, sgd with
// momentum, or adamw — with the run's learning rate and weight decay.
#pragma once

#include <memory>
#include <string>

#include "train/optim/chimera21_options.h"
#include "train/optim/optimizer.h"

namespace chimera {

struct OptimizerChoice {
  std::string name = "chimera21";  // chimera21 | sgd | adamw
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;        // sgd only
  Chimera21Options chimera21;   // everything but lr and weight_decay, for chimera21
};

// The reference's default: sgd for fp32_baseline, chimera21 otherwise.
std::string default_optimizer_for(const std::string& model_mode);
std::unique_ptr<Optimizer> make_optimizer(const OptimizerChoice& choice, std::vector<Var> params);

}  // namespace chimera
