// Finite-difference gradient checks and random inputs for op and layer tests.
#pragma once

#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "engine/autograd.h"
#include "engine/rng.h"

namespace chimera::test {

Tensor uniform(Rng& rng, Shape shape, double lo = -1.0, double hi = 1.0);

// Moves values out of (-margin, margin), for ops with a kink or a pole at 0.
Tensor away_from_zero(Tensor t, float margin);

using Op = std::function<Var(const std::vector<Var>&)>;

// Compares op's backward with central differences of loss = sum(op(inputs) * r), r random.
// Every input takes a gradient. The loss is summed in double from the float outputs, so what
// is left is the outputs' float rounding divided by the step: well under the tolerance (2e-3 of
// the largest gradient), while a wrong rule (a lost factor, a transposed weight) is off by a
// sizeable fraction of it.
::testing::AssertionResult gradients_match(const Op& op, const std::vector<Tensor>& inputs,
                                           uint64_t seed = 1);

}  // namespace chimera::test
