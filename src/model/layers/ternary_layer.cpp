#include "model/layers/ternary_layer.h"

#include "model/quant/packed_ternary.h"

namespace chimera {

TernaryLayer::TernaryLayer(Init init, const BitLayerOptions& options)
    : weight_master(init.weight, true), quant(options, init.weight) {
  if (init.bias) bias = Var(*init.bias, true);
}

void TernaryLayer::visit_own(const ParamFn& on_param, const BufferFn& on_buffer) {
  on_param("weight_master", weight_master);
  if (bias) on_param("bias", *bias);
  on_buffer("scale_ema", quant.scale_ema);
  on_buffer("forward_step", quant.forward_step);
}

QuantizedWeight TernaryLayer::eval_weight() {
  return fixed_ ? fixed_->q : quant.quantize(weight_master.value(), false);
}

void TernaryLayer::set_fixed_weight(const QuantizedWeight& q) {
  CHIMERA_CHECK(q.codes.defined() && q.codes.shape() == weight_master.shape(),
                "fixed ternary weight: codes must have the layer's weight shape ",
                shape_str(weight_master.shape()), ", got ",
                q.codes.defined() ? shape_str(q.codes.shape()) : "none");
  const int64_t rows = q.codes.size(0);
  FixedWeight fixed{q, {}};
  // pack_ternary checks the dtype, the values and gamma.
  fixed.i2 = pack_ternary(q.codes.reshape({rows, q.codes.numel() / rows}), q.gamma, PackFormat::i2)
                 .payload;
  fixed_ = std::move(fixed);
  quant.finish_forward(q, false);  // stats describe the fixed weight before any forward
}

Var TernaryLayer::forward_with(const Var& x, const Shape& out_shape, int64_t inner,
                               Products products) {
  const bool train = training();
  const int64_t channels = out_shape[1];
  QuantizedActivations act = quantize_activations(x.value(), quant.options.eps_beta);
  CHIMERA_CHECK(!(fixed_ && train), "a ternary layer with a fixed weight (from a model file) ",
                "runs in eval mode only; call eval() first");
  QuantizedWeight q = fixed_ ? fixed_->q : quant.quantize(weight_master.value(), train);
  Tensor acc(out_shape, DType::i32);
  if (fixed_)
    products.packed_integer(act.codes.data<int8_t>(), fixed_->i2.data(), acc.data<int32_t>());
  else
    products.integer(act.codes.data<int8_t>(), q.codes.data<int8_t>(), acc.data<int32_t>());
  Tensor y(out_shape);
  scale_accumulators(acc, act.beta, q, bias ? bias->value() : Tensor(), channels, inner, y);
  quant.finish_forward(q, train);

  std::vector<Var> inputs{x, weight_master};
  if (bias) inputs.push_back(*bias);
  const bool pass_to_x = quant.options.activation_grad == ActivationGrad::ste;
  return make_op("ternary_layer", std::move(y), inputs,
                 [x, w = weight_master, b = bias, act, q, channels, inner, pass_to_x,
                  products = std::move(products)](const Tensor& dy) {
                   const Tensor dz = scale_gradient(dy, act.beta * q.gamma);
                   if (w.requires_grad()) {
                     const Tensor xq = act.codes.to(DType::f32);
                     Tensor dw(w.shape());
                     products.weight_grad(xq.f32(), dz.f32(), dw.f32());
                     apply_clip_mask(q, dw);
                     add_grad(w, dw);
                   }
                   if (pass_to_x && x.requires_grad()) {
                     const Tensor wq = used_weight_f32(q);
                     Tensor dx(x.shape());
                     products.input_grad(wq.f32(), dz.f32(), dx.f32());
                     divide_in_place(dx, act.beta);
                     add_grad(x, dx);
                   }
                   if (b) add_grad(*b, channel_sum(dy, channels, inner));
                 });
}

}  // namespace chimera
