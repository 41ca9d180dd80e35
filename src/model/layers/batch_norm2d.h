// 2-D batch normalisation layer (torch.nn.BatchNorm2d, affine, tracking running statistics):
// batch statistics in training, running statistics in evaluation (SPEC §4).
#pragma once

#include "engine/ops/ops.h"
#include "model/layers/module.h"

namespace chimera {

class BatchNorm2d : public Module {
 public:
  // weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0 (0-d i64).
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1);

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  Var forward(const Var& x);  // [N, C, H, W] -> same shape
  // relu(forward(x) + residual) (residual null: relu(forward(x))) in one pass, bit-identical.
  Var forward_relu(const Var& x, const Var* residual);
  // Evaluation as y = fma(x, mul[c], add[c]): what forward computes in eval mode, for a fused
  // epilogue (batch_norm2d_eval_affine).
  void eval_affine(std::vector<float>& mul, std::vector<float>& add) const;

  Var weight, bias;
  BatchNormState state;
  int64_t channels;
  double eps, momentum;
};

}  // namespace chimera
