#include "model/layers/bit_conv2d.h"

#include "engine/kernels/conv2d_f32.h"
#include "engine/kernels/conv2d_i8t.h"
#include "model/layers/init.h"

namespace chimera {

static Conv2dParams checked(int64_t in, int64_t out, int64_t k, const Conv2dParams& p) {
  CHIMERA_CHECK(in > 0 && out > 0, "BitConv2d: channel counts must be positive, got ", in,
                " and ", out);
  CHIMERA_CHECK(k > 0, "BitConv2d: kernel_size must be positive, got ", k);
  CHIMERA_CHECK(p.groups > 0 && in % p.groups == 0 && out % p.groups == 0,
                "BitConv2d: groups=", p.groups, " must divide both channel counts (", in, ", ",
                out, ")");
  return p;
}

BitConv2d::BitConv2d(int64_t in, int64_t out, int64_t k, const Conv2dParams& p, bool with_bias,
                     const BitLayerOptions& options, Rng& rng)
    : in_channels(in),
      out_channels(out),
      kernel_size(k),
      params(checked(in, out, k, p)),
      weight_master(fan_in_uniform({out, in / p.groups, k, k}, in / p.groups * k * k, rng), true),
      quant(options, weight_master.value()) {
  if (with_bias) bias = Var(fan_in_uniform({out}, in / p.groups * k * k, rng), true);
}

void BitConv2d::visit_own(const ParamFn& on_param, const BufferFn& on_buffer) {
  on_param("weight_master", weight_master);
  if (bias) on_param("bias", *bias);
  on_buffer("scale_ema", quant.scale_ema);
  on_buffer("forward_step", quant.forward_step);
}

// Backward with dz = (beta * gamma) * dy, as BitLinear: the weight gradient is the float
// convolution weight-gradient of x_q and dz; the input gradient (ste only) is the float
// input-gradient of q and dz, divided by beta.
Var BitConv2d::forward(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 4 && x.shape()[1] == in_channels,
                "BitConv2d: expected input [batch, ", in_channels, ", height, width], got ",
                shape_str(x.shape()));
  const ConvGeometry g = conv_geometry(x.shape(), weight_master.shape(), params);
  const bool train = training();
  QuantizedActivations act = quantize_activations(x.value(), quant.options.eps_beta);
  QuantizedWeight q = quant.quantize(weight_master.value(), train);

  const Shape out_shape{g.n, g.c_out, g.out_h, g.out_w};
  Tensor acc(out_shape, DType::i32);
  conv2d_i8t(g, act.codes.data<int8_t>(), q.codes.data<int8_t>(), acc.data<int32_t>());
  Tensor y(out_shape);
  scale_accumulators(acc, act.beta, q, bias ? bias->value() : Tensor(), g.c_out, g.out_pixels(),
                     y);
  quant.finish_forward(q, train);

  std::vector<Var> inputs{x, weight_master};
  if (bias) inputs.push_back(*bias);
  const bool pass_to_x = quant.options.activation_grad == ActivationGrad::ste;
  const Var w = weight_master;
  const std::optional<Var> b = bias;
  return make_op("bit_conv2d", std::move(y), inputs, [x, w, b, act, q, g, pass_to_x](const Tensor& dy) {
    const Tensor dz = scale_gradient(dy, act.beta * q.gamma);
    if (w.requires_grad()) {
      const Tensor xq = act.codes.to(DType::f32);
      Tensor dw(w.shape());
      conv2d_backward_weight_f32(g, xq.f32(), dz.f32(), dw.f32());
      apply_clip_mask(q, dw);
      add_grad(w, dw);
    }
    if (pass_to_x && x.requires_grad()) {
      const Tensor wq = used_weight_f32(q);
      Tensor dx(x.shape());
      conv2d_backward_input_f32(g, wq.f32(), dz.f32(), dx.f32());
      divide_in_place(dx, act.beta);
      add_grad(x, dx);
    }
    if (b) add_grad(*b, channel_sum(dy, g.c_out, g.out_pixels()));
  });
}

}  // namespace chimera
