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

double lr_warmup_cosine(double base_lr, int64_t step, int64_t warmup, int64_t steps,
                        double min_ratio) {
  CHIMERA_CHECK(steps > 0 && step >= 0 && step < steps && warmup >= 0, "step ", step,
                " outside [0, ", steps, ") or warm-up ", warmup, " negative");
  if (step < warmup) return base_lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const int64_t span = steps - warmup;
  const double progress =
      span > 1 ? static_cast<double>(step - warmup) / static_cast<double>(span - 1) : 1.0;
  const double floor = min_ratio * base_lr;
  return floor + (base_lr - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace chimera
