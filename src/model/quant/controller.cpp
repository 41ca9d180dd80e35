#include "model/quant/controller.h"

#include <algorithm>

#include "engine/error.h"

namespace chimera {

namespace {

void check_range(double value, const char* name) {
  CHIMERA_CHECK(value >= 0.0 && value <= 1.0, name, " must be in [0, 1], got ", value);
}

}  // namespace

TargetBitsController::TargetBitsController(const ControllerSettings& settings)
    : settings_(settings) {
  const ControllerSettings& s = settings_;
  CHIMERA_CHECK(s.target_bits >= 0.0, "target_bits must be >= 0, got ", s.target_bits);
  CHIMERA_CHECK(s.tolerance >= 0.0, "tolerance must be >= 0, got ", s.tolerance);
  CHIMERA_CHECK(s.step_size >= 0.0, "step_size must be >= 0, got ", s.step_size);
  CHIMERA_CHECK(s.alpha_max >= s.alpha_min, "alpha_max must be >= alpha_min, got alpha_min ",
                s.alpha_min, " and alpha_max ", s.alpha_max);
  target_zero_ratio_ =
      s.target_zero_ratio ? *s.target_zero_ratio : zero_ratio_for_entropy(s.target_bits, s.branch);
  check_range(target_zero_ratio_, "target_zero_ratio");
}

double TargetBitsController::update(double alpha, double zero_ratio) const {
  check_range(zero_ratio, "zero_ratio");
  const double error = zero_ratio - target_zero_ratio_;
  double next = alpha;
  if (error < -settings_.tolerance)
    next += settings_.step_size;
  else if (error > settings_.tolerance)
    next -= settings_.step_size;
  return std::min(std::max(next, settings_.alpha_min), settings_.alpha_max);
}

}  // namespace chimera
