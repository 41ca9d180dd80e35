// Several linear layers that read one input (a transformer's q, k, v projections; SwiGLU's gate
// and up projections), run together in inference.
#pragma once

#include <vector>

#include "model/layers/float_or_ternary.h"

namespace chimera {

// layers[i]->forward(x) for x [rows, in], bit for bit. When every layer is ternary with a fixed
// weight and per-token activation scales, all with one eps_beta, in eval mode with no gradient
// recorded, x is quantized once and the products share one parallel region
// (i2t_gemm_f32_shared); otherwise each layer runs its own forward.
std::vector<Var> linear_shared_input(const std::vector<LinearLayer*>& layers, const Var& x);

}  // namespace chimera
