// Learning-rate schedules, stepped once per epoch (as torch's LR schedulers are in CIFAR
// recipes): constant; cosine from base to 0 over the run; step (x0.1 at 50 % and 75 % of it).
#pragma once

#include <string>

namespace chimera {

enum class LrSchedule { constant, cosine, step };
LrSchedule parse_lr_schedule(const std::string& name);  // error names the allowed values
const char* lr_schedule_name(LrSchedule schedule);

// The learning rate for epoch `epoch` (0-based) of `epochs`.
double lr_at_epoch(LrSchedule schedule, double base_lr, int64_t epoch, int64_t epochs);

// Per step, as language models are trained: linear warm-up from base_lr / warmup over the
// first `warmup` steps (step 0-based), then cosine from base_lr down to min_ratio * base_lr at
// the last of `steps`.
double lr_warmup_cosine(double base_lr, int64_t step, int64_t warmup, int64_t steps,
                        double min_ratio);

}  // namespace chimera
