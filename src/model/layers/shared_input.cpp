#include "model/layers/shared_input.h"

namespace chimera {

namespace {

bool can_share(const std::vector<LinearLayer*>& layers, const Var& x) {
  if (layers.empty() || static_cast<int64_t>(layers.size()) > kI2tMaxSharedProducts || x.value().dim() != 2) return false;
  for (const LinearLayer* l : layers)
    if (!l->ternary || !l->ternary->takes_shared_activations() ||
        l->ternary->in_features != x.shape()[1] ||
        l->ternary->quant.options.eps_beta != layers[0]->ternary->quant.options.eps_beta)
      return false;
  return true;
}

}  // namespace

std::vector<Var> linear_shared_input(const std::vector<LinearLayer*>& layers, const Var& x) {
  std::vector<Var> out;
  if (!can_share(layers, x)) {
    for (LinearLayer* l : layers) out.push_back(l->forward(x));
    return out;
  }
  const int64_t rows = x.shape()[0], in = x.shape()[1];
  const QuantizedActivations act =
      quantize_activations_by_row(x.value(), rows, layers[0]->ternary->quant.options.eps_beta);
  // Fixed-size arrays (can_share caps the count): at batch 1 these calls run for every token.
  std::vector<float> row_scales[kI2tMaxSharedProducts];
  I2tFloatProduct products[kI2tMaxSharedProducts];
  out.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    Tensor y = Tensor::empty({rows, layers[i]->ternary->out_features});
    products[i] = layers[i]->ternary->shared_product(act, row_scales[i], y.f32());
    out.emplace_back(std::move(y));
  }
  i2t_gemm_f32_shared(rows, in, act.codes.data<int8_t>(), in, products,
                      static_cast<int64_t>(layers.size()));
  return out;
}

}  // namespace chimera
