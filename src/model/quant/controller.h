// The target-bits controller (SPEC §1): nudges alpha so that the zero ratio of the ternary
// weights approaches the ratio that gives the target entropy.
#pragma once

#include <optional>

#include "model/quant/target_bits.h"

namespace chimera {

struct ControllerSettings {
  double target_bits = 1.32;
  Branch branch = Branch::sparse;
  std::optional<double> target_zero_ratio;  // else derived from target_bits on the branch
  double tolerance = 0.02;
  double step_size = 0.05;
  double alpha_min = 0.0;
  double alpha_max = 1.5;
};

class TargetBitsController {
 public:
  // Errors: target_bits < 0, tolerance or step_size < 0, alpha_max < alpha_min, a target zero
  // ratio outside [0, 1], and whatever zero_ratio_for_entropy rejects when deriving it.
  explicit TargetBitsController(const ControllerSettings& settings = {});

  const ControllerSettings& settings() const { return settings_; }
  double target_zero_ratio() const { return target_zero_ratio_; }

  // e = zero_ratio - target; alpha rises by step_size when e < -tolerance (too few zeros) and
  // falls when e > tolerance, then is clipped to [alpha_min, alpha_max]. zero_ratio outside
  // [0, 1] is an error.
  double update(double alpha, double zero_ratio) const;

 private:
  ControllerSettings settings_;
  double target_zero_ratio_;
};

}  // namespace chimera
