// Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_): when the norm of all
// gradients together exceeds max_norm, every gradient is scaled by max_norm / (norm + 1e-6).
#pragma once

#include <vector>

#include "engine/autograd.h"

namespace chimera {

// Returns the norm before clipping (summed in double in parameter order, so deterministic).
// Parameters without a gradient are skipped; max_norm <= 0 only measures.
double clip_grad_norm(std::vector<Var>& params, double max_norm);

}  // namespace chimera
