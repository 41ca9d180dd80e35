#include "model/layers/embedding.h"

#include "engine/ops/ops.h"
#include "model/layers/init.h"

namespace chimera {

Embedding::Embedding(int64_t vocab, int64_t dim, Rng& rng) {
  CHIMERA_CHECK(vocab > 0 && dim > 0, "Embedding: vocab and dim must be positive, got ", vocab,
                " and ", dim);
  weight = Var(initial_parameter({vocab, dim}, [&](Tensor& w) { rng.fill_normal(w, 0.0, 1.0); }),
               true);
}

void Embedding::visit_own(const ParamFn& on_param, const BufferFn&) { on_param("weight", weight); }

Var Embedding::forward(const Tensor& ids) { return embedding(weight, ids); }

}  // namespace chimera
