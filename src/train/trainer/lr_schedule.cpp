#include "train/trainer/lr_schedule.h"

#include <cmath>
#include <numbers>

#include "engine/error.h"

namespace chimera {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::constant;
  if (name == "cosine") return LrSchedule::cosine;
  if (name == "step") return LrSchedule::step;
  CHIMERA_FAIL("lr schedule must be 'constant', 'cosine' or 'step', got '", name, "'");
}

const char* lr_schedule_name(LrSchedule schedule) {
  switch (schedule) {
    case LrSchedule::constant: return "constant";
    case LrSchedule::cosine: return "cosine";
    case LrSchedule::step: return "step";
  }
  return "?";
}

double lr_at_epoch(LrSchedule schedule, double base_lr, int64_t epoch, int64_t epochs) {
  CHIMERA_CHECK(epochs > 0 && epoch >= 0 && epoch < epochs, "epoch ", epoch, " outside [0, ",
                epochs, ")");
  switch (schedule) {
    case LrSchedule::constant:
      return base_lr;
    case LrSchedule::cosine:
      return base_lr * 0.5 *
             (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                             static_cast<double>(epochs)));
    case LrSchedule::step: {
      double lr = base_lr;
      if (2 * epoch >= epochs) lr *= 0.1;
      if (4 * epoch >= 3 * epochs) lr *= 0.1;
      return lr;
    }
  }
  return base_lr;
}

}  // namespace chimera
