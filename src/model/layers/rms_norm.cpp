#include "model/layers/rms_norm.h"

#include "engine/ops/ops.h"

namespace chimera {

RmsNorm::RmsNorm(int64_t dim, double eps_) : weight(Tensor::full({dim}, 1.0f), true), eps(eps_) {
  CHIMERA_CHECK(dim > 0, "RmsNorm: dim must be positive, got ", dim);
  CHIMERA_CHECK(eps_ > 0, "RmsNorm: eps must be positive, got ", eps_);
}

void RmsNorm::visit_own(const ParamFn& on_param, const BufferFn&) { on_param("weight", weight); }

Var RmsNorm::forward(const Var& x) { return rms_norm(x, weight, eps); }

}  // namespace chimera
