// BitLinear (SPEC §2): y = (beta * gamma) * (x_q · q^T) + bias, with int8 activations x_q,
// ternary weights q and the product computed in int32 by the integer GEMM.
#pragma once

#include "engine/rng.h"
#include "model/layers/ternary_layer.h"

namespace chimera {

class BitLinear : public TernaryLayer {
 public:
  // weight_master and bias are initialised like torch.nn.Linear (uniform ±1/sqrt(in)).
  BitLinear(int64_t in_features, int64_t out_features, bool bias, const BitLayerOptions& options,
            Rng& rng);

  Var forward(const Var& x);  // x [batch, in] -> [batch, out]

  int64_t in_features, out_features;

 protected:
  bool fixed_weight_reads_codes() const override { return false; }  // i2t_gemm on i2 codes
};

}  // namespace chimera
