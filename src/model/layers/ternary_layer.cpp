#include "model/layers/ternary_layer.h"

#include <vector>

#include "engine/kernels/quantize_i8.h"
#include "model/quant/pack_i2.h"
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
  if (!fixed_) return quant.quantize(weight_master.value(), false);
  QuantizedWeight q = fixed_->q;
  if (!q.codes.defined()) {
    q.codes = Tensor::empty(weight_master.shape(), DType::i8);
    const int64_t rows = weight_master.shape()[0];
    unpack_i2(fixed_->i2.data(), rows, q.codes.numel() / rows, q.codes.data<int8_t>());
  }
  return q;
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
  quant.finish_forward(q, false);  // stats describe the fixed weight before any forward
  if (!fixed_weight_reads_codes()) {  // 1 byte a weight that inference never reads
    quant.release_last_codes();
    fixed.q.codes = Tensor();
  }
  fixed_ = std::move(fixed);
}

AccScale TernaryLayer::epilogue(const QuantizedWeight& q, float beta,
                                const std::vector<float>& betas, bool per_row,
                                const AccScale& post, std::vector<float>& row_scales) const {
  // The reference multiplies the two 0-d scales first; per token, each row's beta by gamma.
  AccScale s = post;
  s.scale = beta * q.gamma;
  row_scales.clear();
  for (float b : betas) row_scales.push_back(b * q.gamma);
  if (per_row) s.row_scale = row_scales.data();
  s.clip = q.clip;
  s.bias = bias ? bias->value().f32() : nullptr;
  return s;
}

bool TernaryLayer::takes_shared_activations() const {
  return fixed_ && !training() && !grad_enabled() &&
         quant.options.activation_scale == ActivationScale::token;
}

I2tFloatProduct TernaryLayer::shared_product(const QuantizedActivations& act,
                                             std::vector<float>& row_scales, float* y) {
  CHIMERA_CHECK(takes_shared_activations(),
                "a shared-input product needs a fixed weight, per-token activation scales, eval "
                "mode and no gradient recorded");
  const QuantizedWeight& q = fixed_->q;
  const AccScale s = epilogue(q, act.beta, act.row_betas, true, AccScale{}, row_scales);
  const int64_t out = weight_master.shape()[0];
  return {out, fixed_->i2.data(), s, y, out};
}

Var TernaryLayer::forward_with(const Var& x, const Shape& out_shape, int64_t inner,
                               Products products, const AccScale& post) {
  const bool train = training();
  const int64_t channels = out_shape[1];
  CHIMERA_CHECK(!(fixed_ && train), "a ternary layer with a fixed weight (from a model file) ",
                "runs in eval mode only; call eval() first");
  const bool has_post = post.bn_mul || post.residual || post.relu;
  CHIMERA_CHECK(!has_post || (!train && !grad_enabled()),
                "a fused BatchNorm/residual/ReLU epilogue is for inference only (eval mode, no "
                "gradient recorded)");
  // Without a recorded gradient the codes are not kept: the product may quantize as it goes.
  // A fixed weight takes that path too when the layer has it (the direct convolution on its
  // int8 codes beats im2col and the packed GEMM); otherwise it runs on its packed i2 codes.
  const bool by_row = quant.options.activation_scale == ActivationScale::token;
  CHIMERA_CHECK(!by_row || (inner == 1 && !has_post),
                "per-token activation scales (activation_scale: token) are for linear layers");
  const bool fused = !grad_enabled() && products.quantizing_integer && !by_row;
  QuantizedActivations act;
  if (fused)
    act.beta = activation_beta(x.value(), quant.options.eps_beta);
  else if (by_row)
    act = quantize_activations_by_row(x.value(), out_shape[0], quant.options.eps_beta);
  else if (sync_activation_max && train)
    act = quantize_activations_with_beta(
        x.value(), beta_from_absmax(sync_activation_max(abs_max_f32(x.numel(), x.value().f32())),
                                    quant.options.eps_beta));
  else
    act = quantize_activations(x.value(), quant.options.eps_beta);
  // A fixed weight without int8 codes gets them decoded when a gradient will need them.
  QuantizedWeight q = !fixed_ ? quant.quantize(weight_master.value(), train)
                      : grad_enabled() ? eval_weight()
                                       : fixed_->q;
  // Per row, or the tensor's one value: the backward scales dy by these and divides dx by the
  // betas.
  std::vector<float> betas = by_row ? act.row_betas : std::vector<float>{act.beta};
  std::vector<float> row_scales;
  const AccScale scale = epilogue(q, act.beta, betas, by_row, post, row_scales);
  Tensor y = Tensor::empty(out_shape);
  if (fused)
    products.quantizing_integer(x.value().f32(), act.beta, q.codes.data<int8_t>(), scale, y.f32());
  else if (fixed_)
    products.packed_integer(act.codes.data<int8_t>(), fixed_->i2.data(), scale, y.f32());
  else
    products.integer(act.codes.data<int8_t>(), q.codes.data<int8_t>(), scale, y.f32());
  if (!fixed_) quant.finish_forward(q, train);  // a fixed weight's stats were kept at fixing
  // Nothing recorded: make_op would return y as it is, but only after the closure below had
  // copied act, q and the products (a generated token's hot path), so test it here first.
  if (!grad_enabled()) return Var(std::move(y));

  std::vector<Var> inputs{x, weight_master};
  if (bias) inputs.push_back(*bias);
  const bool pass_to_x = quant.options.activation_grad == ActivationGrad::ste;
  return make_op("ternary_layer", std::move(y), inputs,
                 [x, w = weight_master, b = bias, act, q, channels, inner, pass_to_x,
                  row_scales = std::move(row_scales), betas = std::move(betas),
                  products = std::move(products)](const Tensor& dy) {
                   const bool want_w = w.requires_grad(), want_x = pass_to_x && x.requires_grad();
                   if (want_w || want_x) {
                     const Tensor dz = scale_rows(dy, row_scales);
                     const Tensor wq = want_x ? used_weight_f32(q) : Tensor();
                     Tensor dx = want_x ? Tensor::empty(x.shape()) : Tensor();
                     Tensor dw = want_w ? Tensor::empty(w.shape()) : Tensor();
                     products.gradients(act.codes.data<int8_t>(), want_x ? wq.f32() : nullptr,
                                        dz.f32(), want_x ? dx.f32() : nullptr,
                                        want_w ? dw.f32() : nullptr);
                     if (want_w) {
                       apply_clip_mask(q, dw);
                       add_grad(w, dw);
                     }
                     if (want_x) {
                       divide_rows(dx, betas);
                       add_grad(x, dx);
                     }
                   }
                   if (b) add_grad(*b, channel_sum(dy, channels, inner));
                 });
}

}  // namespace chimera
