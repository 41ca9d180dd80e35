// PyTorch's default initialisation for conv/linear layers, on our Rng:
// kaiming_uniform_(a = sqrt(5)) is uniform in ±1/sqrt(fan_in), and so is the bias.
#pragma once

#include "engine/rng.h"

namespace chimera {

Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, Rng& rng);

}  // namespace chimera
