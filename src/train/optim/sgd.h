// SGD with momentum exactly as torch.optim.SGD's single-tensor (non-foreach) implementation.
#pragma once

#include <string>
#include <vector>

#include "train/optim/optimizer.h"

namespace chimera {

struct SgdOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;

  // Throws naming the first setting out of its range; nesterov needs momentum > 0 and
  // dampening 0, as in torch.
  void validate() const;
};

// g += weight_decay * p; buf = g at a parameter's first step, else
// buf = momentum * buf + (1 - dampening) * g; p -= lr * (nesterov ? g + momentum * buf : buf).
class Sgd : public Optimizer {
 public:
  explicit Sgd(std::vector<Var> params, SgdOptions options = {});
  // Groups without their own lr / weight_decay take the options' values.
  Sgd(std::vector<ParamGroup> groups, SgdOptions options);

  std::string name() const override { return "sgd"; }
  void step() override;
  const SgdOptions& options() const { return options_; }

 protected:
  std::vector<StateSlot> state_slots() const override;

 private:
  SgdOptions options_;
};

}  // namespace chimera
