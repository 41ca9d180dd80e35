// Adam and AdamW as torch.optim's single-tensor (non-foreach) implementations in the reference's
// torch build: the same float32 operations in the same order, bias corrections in double.
// Its first moment is m.mul_(beta1).add_(g, alpha=1 - beta1) (a fused multiply-add); torch
// versions that use m.lerp_(g, 1 - beta1) round differently and do not match the golden files.
#pragma once

#include <string>
#include <vector>

#include "train/optim/optimizer.h"

namespace chimera {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;

  // Throws naming the first setting out of its range, e.g. "beta2 must be in [0, 1), got 1".
  void validate() const;
};

// Adam adds weight_decay * p to the gradient (L2 regularisation).
class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Var> params, AdamOptions options = {});
  // Groups without their own lr / weight_decay take the options' values.
  Adam(std::vector<ParamGroup> groups, AdamOptions options);

  std::string name() const override { return decoupled_ ? "adamw" : "adam"; }
  void step() override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay);
  std::vector<StateSlot> state_slots() const override;
  // torch keeps each parameter's step as a float32 tensor.
  int64_t step_counter_bytes() const override { return 4; }

 private:
  AdamOptions options_;
  bool decoupled_;
};

// AdamW decays the parameter itself first: p *= 1 - lr * weight_decay.
class AdamW : public Adam {
 public:
  static AdamOptions defaults();  // Adam's, with torch's AdamW weight_decay 1e-2

  explicit AdamW(std::vector<Var> params, AdamOptions options = defaults());
  AdamW(std::vector<ParamGroup> groups, AdamOptions options);
};

}  // namespace chimera
