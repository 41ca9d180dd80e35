#include "model/layers/bit_linear.h"

#include <cmath>

#include "engine/kernels/gemm_f32.h"
#include "engine/kernels/i8t_gemm.h"
#include "model/layers/init.h"

namespace chimera {

BitLinear::BitLinear(int64_t in, int64_t out, bool with_bias, const BitLayerOptions& options,
                     Rng& rng)
    : in_features(in),
      out_features(out),
      weight_master(fan_in_uniform({out, in}, in, rng), true),
      quant(options, weight_master.value()) {
  CHIMERA_CHECK(in > 0 && out > 0, "BitLinear: in_features and out_features must be positive, got ",
                in, " and ", out);
  if (with_bias) bias = Var(fan_in_uniform({out}, in, rng), true);
}

void BitLinear::visit_own(const ParamFn& on_param, const BufferFn& on_buffer) {
  on_param("weight_master", weight_master);
  if (bias) on_param("bias", *bias);
  on_buffer("scale_ema", quant.scale_ema);
  on_buffer("forward_step", quant.forward_step);
}

// Forward: x [B, in] -> y [B, out]. Backward with dz = (beta * gamma) * dy:
//   d weight_master = dz^T · x_q (straight through the quantizer),
//   d x = (dz · q) / beta under activation_grad = ste, nothing under none,
//   d bias = sum over the batch of dy.
Var BitLinear::forward(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 2 && x.shape()[1] == in_features,
                "BitLinear: expected input shape [batch, ", in_features, "], got ",
                shape_str(x.shape()));
  const bool train = training();
  const int64_t B = x.shape()[0];
  QuantizedActivations act = quantize_activations(x.value(), quant.options.eps_beta);
  QuantizedWeight q = quant.quantize(weight_master.value(), train);

  Tensor acc({B, out_features}, DType::i32);
  i8t_gemm(B, out_features, in_features, act.codes.data<int8_t>(), in_features,
           q.codes.data<int8_t>(), in_features, acc.data<int32_t>(), out_features);
  Tensor y({B, out_features});
  scale_accumulators(acc, act.beta, q, bias ? bias->value() : Tensor(), out_features, 1, y);
  quant.finish_forward(q, train);

  std::vector<Var> inputs{x, weight_master};
  if (bias) inputs.push_back(*bias);
  const bool pass_to_x = quant.options.activation_grad == ActivationGrad::ste;
  const Var w = weight_master;
  const std::optional<Var> b = bias;
  const int64_t in = in_features, out = out_features;
  return make_op("bit_linear", std::move(y), inputs,
                 [x, w, b, act, q, B, in, out, pass_to_x](const Tensor& dy) {
                   const Tensor dz = scale_gradient(dy, act.beta * q.gamma);
                   if (w.requires_grad()) {
                     const Tensor xq = act.codes.to(DType::f32);
                     Tensor dw({out, in});
                     gemm_f32(true, false, out, in, B, 1.0f, dz.f32(), out, xq.f32(), in, 0.0f,
                              dw.f32(), in);
                     apply_clip_mask(q, dw);
                     add_grad(w, dw);
                   }
                   if (pass_to_x && x.requires_grad()) {
                     const Tensor wq = used_weight_f32(q);
                     Tensor dx({B, in});
                     gemm_f32(false, false, B, in, out, 1.0f, dz.f32(), out, wq.f32(), in, 0.0f,
                              dx.f32(), in);
                     divide_in_place(dx, act.beta);
                     add_grad(x, dx);
                   }
                   if (b) add_grad(*b, channel_sum(dy, out, 1));
                 });
}

}  // namespace chimera
