// Token embedding layer: weight [vocab, dim], normal(0, 1) as torch.nn.Embedding.
#pragma once

#include "engine/rng.h"
#include "model/layers/module.h"

namespace chimera {

class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, Rng& rng);

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  Var forward(const Tensor& ids);  // i64 ids of any shape -> shape + [dim]

  Var weight;
};

}  // namespace chimera
