// A float fully connected layer (torch.nn.Linear): the classifier of the fp32 baseline and of a
// first_last_fp32 model.
#pragma once

#include <optional>

#include "engine/rng.h"
#include "model/layers/module.h"

namespace chimera {

class Linear : public Module {
 public:
  // weight [out, in] and bias (when asked for) uniform in ±1/sqrt(in), drawn in that order.
  Linear(int64_t in_features, int64_t out_features, bool bias, Rng& rng);

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  Var forward(const Var& x);  // [batch, in] -> [batch, out]

  Var weight;
  std::optional<Var> bias;
  int64_t in_features, out_features;
};

}  // namespace chimera
