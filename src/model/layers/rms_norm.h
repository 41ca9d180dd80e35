// RMSNorm layer (LLaMA / BitNet): a learned gain per feature, initialised to 1.
#pragma once

#include "model/layers/module.h"

namespace chimera {

class RmsNorm : public Module {
 public:
  explicit RmsNorm(int64_t dim, double eps = 1e-5);

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  Var forward(const Var& x);  // over the last axis, of size dim

  Var weight;
  double eps;
};

}  // namespace chimera
