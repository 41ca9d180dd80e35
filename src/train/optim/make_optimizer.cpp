#include "train/optim/make_optimizer.h"

#include "train/optim/adam.h"
#include "train/optim/chimera21.h"
#include "train/optim/sgd.h"

namespace chimera {

std::string default_optimizer_for(const std::string& model_mode) {
  return model_mode == "fp32_baseline" ? "sgd" : "chimera21";
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerChoice& choice, std::vector<Var> params) {
  if (choice.name == "chimera21") {
    Chimera21Options o = choice.chimera21;
    o.lr = choice.lr;
    o.weight_decay = choice.weight_decay;
    return std::make_unique<Chimera21>(std::move(params), o);
  }
  if (choice.name == "sgd") {
    SgdOptions o;
    o.lr = choice.lr;
    o.momentum = choice.momentum;
    o.weight_decay = choice.weight_decay;
    return std::make_unique<Sgd>(std::move(params), o);
  }
  if (choice.name == "adamw") {
    AdamOptions o;  // torch's AdamW betas and eps; the run's weight decay, as the reference
    o.lr = choice.lr;
    o.weight_decay = choice.weight_decay;
    return std::make_unique<AdamW>(std::move(params), o);
  }
  CHIMERA_FAIL("optimizer must be 'chimera21', 'sgd' or 'adamw', got '", choice.name, "'");
}

}  // namespace chimera
