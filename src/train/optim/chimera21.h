// Chimera21 (SPEC §3): Adam whose step is scaled per element by kappa = clamp(exp(lambda psi)),
// where psi is a running average of the agreement sign(m) * sign(g). Follows the reference
// implementation's float32 operation order, so trajectories match it to rounding.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "train/optim/chimera21_options.h"
#include "train/optim/optimizer.h"

namespace chimera {

class Chimera21 : public Optimizer {
 public:
  explicit Chimera21(std::vector<Var> params, Chimera21Options options = {});
  // Groups without their own lr / weight_decay take the options' values.
  Chimera21(std::vector<ParamGroup> groups, Chimera21Options options);

  std::string name() const override { return "chimera21"; }
  void step() override;
  const Chimera21Options& options() const { return options_; }

  // The last step's diagnostics in SPEC order (mean_kappa, std_kappa, ..., collision_score);
  // empty unless log_diagnostics is set and some parameter had a gradient in that step.
  const std::vector<std::pair<std::string, double>>& last_diagnostics() const {
    return diagnostics_;
  }

 protected:
  std::vector<StateSlot> state_slots() const override;

 private:
  Chimera21Options options_;
  std::vector<std::pair<std::string, double>> diagnostics_;
};

}  // namespace chimera
