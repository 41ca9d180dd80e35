#include "train/trainer/alpha_control.h"

namespace chimera {

ControllerAffects parse_controller_affects(const std::string& s) {
  if (s == "alpha_target") return ControllerAffects::alpha_target;
  if (s == "alpha_override") return ControllerAffects::alpha_override;
  CHIMERA_FAIL("controller_affects must be 'alpha_target' or 'alpha_override', got '", s, "'");
}

const char* controller_affects_name(ControllerAffects a) {
  return a == ControllerAffects::alpha_target ? "alpha_target" : "alpha_override";
}

AlphaControlResult apply_alpha_control(const std::vector<TernaryLayer*>& layers,
                                       const TargetBitsController& controller, double zero_ratio,
                                       ControllerAffects affects) {
  AlphaControlResult result;
  if (layers.empty()) return result;
  result.error = zero_ratio - controller.target_zero_ratio();
  double old_sum = 0, new_sum = 0;
  for (TernaryLayer* layer : layers) {
    BitLayerOptions& o = layer->quant.options;
    const double current = affects == ControllerAffects::alpha_override && o.alpha_override
                               ? *o.alpha_override
                               : o.alpha_target;
    const double next = controller.update(current, zero_ratio);
    if (affects == ControllerAffects::alpha_override)
      o.alpha_override = next;
    else
      o.alpha_target = next;
    old_sum += current;
    new_sum += next;
  }
  const double n = static_cast<double>(layers.size());
  result.alpha_next_mean = new_sum / n;
  result.delta = result.alpha_next_mean - old_sum / n;
  return result;
}

}  // namespace chimera
