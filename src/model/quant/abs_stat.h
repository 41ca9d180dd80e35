// The scale statistic of a weight tensor (SPEC §1): mean or lower median of |U|.
#pragma once

#include <string>

#include "engine/tensor.h"

namespace chimera {

enum class StatMode { mean, median };
StatMode parse_stat_mode(const std::string& name);  // "mean" or "median", else an error
const char* stat_mode_name(StatMode mode);

// mean: rounded as torch's float32 mean is (the sum rounded to float, then a float division by
// the count). median: the lower median, as torch.median returns. U must be a non-empty f32 or
// f64 tensor; a NaN anywhere makes the median NaN (as in torch).
float abs_stat(const Tensor& U, StatMode mode = StatMode::mean);

}  // namespace chimera
