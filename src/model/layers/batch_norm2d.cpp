#include "model/layers/batch_norm2d.h"

namespace chimera {

BatchNorm2d::BatchNorm2d(int64_t c, double eps, double momentum)
    : channels(c), eps(eps), momentum(momentum) {
  CHIMERA_CHECK(c > 0, "BatchNorm2d: channels must be positive, got ", c);
  CHIMERA_CHECK(eps > 0.0, "BatchNorm2d: eps must be > 0, got ", eps);
  CHIMERA_CHECK(momentum >= 0.0 && momentum <= 1.0, "BatchNorm2d: momentum must be in [0, 1], got ",
                momentum);
  weight = Var(Tensor::full({c}, 1.0f), true);
  bias = Var(Tensor::zeros({c}), true);
  state.running_mean = Tensor::zeros({c});
  state.running_var = Tensor::full({c}, 1.0f);
  state.num_batches_tracked = Tensor::zeros({}, DType::i64);
}

void BatchNorm2d::visit_own(const ParamFn& on_param, const BufferFn& on_buffer) {
  on_param("weight", weight);
  on_param("bias", bias);
  on_buffer("running_mean", state.running_mean);
  on_buffer("running_var", state.running_var);
  on_buffer("num_batches_tracked", state.num_batches_tracked);
}

Var BatchNorm2d::forward(const Var& x) {
  return batch_norm2d(x, weight, bias, state, training(), momentum, eps);
}

Var BatchNorm2d::forward_relu(const Var& x, const Var* residual) {
  return batch_norm2d_relu(x, weight, bias, state, training(), residual, momentum, eps);
}

void BatchNorm2d::eval_affine(std::vector<float>& mul, std::vector<float>& add) const {
  batch_norm2d_eval_affine(weight.value(), bias.value(), state, eps, mul, add);
}

}  // namespace chimera
