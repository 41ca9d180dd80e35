// What a ternary tensor looks like (SPEC §1): the share of zeros, +1s and -1s, and the entropy
// of those shares in bits ("effective bits", at most log2(3) at a third each).
#pragma once

#include <cmath>

#include "engine/tensor.h"

namespace chimera {

inline const double kMaxEffectiveBits = std::log2(3.0);

struct TernaryStats {
  double zero_ratio = 0, plus_ratio = 0, minus_ratio = 0, effective_bits = 0;
};

// q: non-empty f32 or i8 tensor; elements are counted as == 0, > 0, < 0.
TernaryStats ternary_stats(const Tensor& q);

// Shannon entropy in bits, zero terms skipped. Negative ratios, or ratios that do not sum to 1
// (within 1e-6), are errors.
double entropy_from_ratios(double zero, double plus, double minus);

}  // namespace chimera
