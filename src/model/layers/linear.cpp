#include "model/layers/linear.h"

#include "engine/ops/ops.h"
#include "model/layers/init.h"

namespace chimera {

Linear::Linear(int64_t in, int64_t out, bool with_bias, Rng& rng)
    : in_features(in), out_features(out) {
  CHIMERA_CHECK(in > 0 && out > 0, "Linear: in_features and out_features must be positive, got ",
                in, " and ", out);
  weight = Var(fan_in_uniform({out, in}, in, rng), true);
  if (with_bias) bias = Var(fan_in_uniform({out}, in, rng), true);
}

void Linear::visit_own(const ParamFn& on_param, const BufferFn&) {
  on_param("weight", weight);
  if (bias) on_param("bias", *bias);
}

Var Linear::forward(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 2 && x.shape()[1] == in_features,
                "Linear: expected input shape [batch, ", in_features, "], got ",
                shape_str(x.shape()));
  return linear(x, weight, bias);
}

}  // namespace chimera
