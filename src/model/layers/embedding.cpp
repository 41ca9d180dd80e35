#include "model/layers/embedding.h"

#include "engine/ops/ops.h"

namespace chimera {

Embedding::Embedding(int64_t vocab, int64_t dim, Rng& rng) {
  CHIMERA_CHECK(vocab > 0 && dim > 0, "Embedding: vocab and dim must be positive, got ", vocab,
                " and ", dim);
  Tensor w({vocab, dim});
  rng.fill_normal(w, 0.0, 1.0);
  weight = Var(std::move(w), true);
}

void Embedding::visit_own(const ParamFn& on_param, const BufferFn&) { on_param("weight", weight); }

Var Embedding::forward(const Tensor& ids) { return embedding(weight, ids); }

}  // namespace chimera
