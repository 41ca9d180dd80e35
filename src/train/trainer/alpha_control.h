// The target-bits controller acting on a model (SPEC §5): every ternary layer's alpha_target
// (warmup still applies) or alpha_override (bypasses warmup) moves by the controller's rule,
// driven by the model's global zero ratio.
#pragma once

#include <string>
#include <vector>

#include "model/layers/ternary_layer.h"
#include "model/quant/controller.h"

namespace chimera {

enum class ControllerAffects { alpha_target, alpha_override };
ControllerAffects parse_controller_affects(const std::string& s);
const char* controller_affects_name(ControllerAffects a);

struct AlphaControlResult {
  double alpha_next_mean = 0;  // mean of the layers' new alphas
  double delta = 0;            // alpha_next_mean minus the mean before the update
  double error = 0;            // zero_ratio - target zero ratio
};

// Each layer's current controlled alpha (its override, or alpha_target while it has none, when
// the override is controlled) goes through controller.update(alpha, zero_ratio). No layers:
// nothing changes and the result is all zeros.
AlphaControlResult apply_alpha_control(const std::vector<TernaryLayer*>& layers,
                                       const TargetBitsController& controller, double zero_ratio,
                                       ControllerAffects affects);

}  // namespace chimera
