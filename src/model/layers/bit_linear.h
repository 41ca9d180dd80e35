// BitLinear (SPEC §2): y = (beta * gamma) * (x_q · q^T) + bias, with int8 activations x_q,
// ternary weights q and the product computed in int32 by the integer kernels.
#pragma once

#include <optional>

#include "engine/rng.h"
#include "model/layers/bit_layer.h"
#include "model/layers/module.h"

namespace chimera {

class BitLinear : public Module {
 public:
  // weight_master and bias are initialised like torch.nn.Linear (uniform ±1/sqrt(in)).
  BitLinear(int64_t in_features, int64_t out_features, bool bias, const BitLayerOptions& options,
            Rng& rng);

  Var forward(const Var& x);  // x [batch, in] -> [batch, out]

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;

  LayerStats last_stats() const { return quant.last_stats(weight_master.value()); }

  int64_t in_features, out_features;
  Var weight_master;        // [out, in]
  std::optional<Var> bias;  // [out]
  TernaryWeightState quant;
};

}  // namespace chimera
