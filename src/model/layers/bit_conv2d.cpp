#include "model/layers/bit_conv2d.h"

#include "engine/kernels/conv2d_f32.h"
#include "engine/kernels/conv2d_i8t.h"
#include "model/layers/init.h"

namespace chimera {

static TernaryLayer::Init conv_init(int64_t in, int64_t out, int64_t k, const Conv2dParams& p,
                                    bool with_bias, Rng& rng) {
  CHIMERA_CHECK(in > 0 && out > 0, "BitConv2d: channel counts must be positive, got ", in,
                " and ", out);
  CHIMERA_CHECK(k > 0, "BitConv2d: kernel_size must be positive, got ", k);
  CHIMERA_CHECK(p.groups > 0 && in % p.groups == 0 && out % p.groups == 0,
                "BitConv2d: groups=", p.groups, " must divide both channel counts (", in, ", ",
                out, ")");
  const int64_t fan_in = in / p.groups * k * k;
  TernaryLayer::Init init{fan_in_uniform({out, in / p.groups, k, k}, fan_in, rng), std::nullopt};
  if (with_bias) init.bias = fan_in_uniform({out}, fan_in, rng);
  return init;
}

BitConv2d::BitConv2d(int64_t in, int64_t out, int64_t k, const Conv2dParams& p, bool with_bias,
                     const BitLayerOptions& options, Rng& rng)
    : TernaryLayer(conv_init(in, out, k, p, with_bias, rng), options),
      in_channels(in),
      out_channels(out),
      kernel_size(k),
      params(p) {
  CHIMERA_CHECK(options.activation_scale == ActivationScale::tensor,
                "BitConv2d: activation_scale must be 'tensor' (per-token scales are for "
                "BitLinear), got '", activation_scale_name(options.activation_scale), "'");
}

Var BitConv2d::forward(const Var& x) {
  return forward_fused(x, AccScale{});
}

// acc = conv(x_q, q); d(weight used) and d x_q are the float convolution's two gradients.
Var BitConv2d::forward_fused(const Var& x, const AccScale& post) {
  CHIMERA_CHECK(x.value().dim() == 4 && x.shape()[1] == in_channels,
                "BitConv2d: expected input [batch, ", in_channels, ", height, width], got ",
                shape_str(x.shape()));
  const ConvGeometry g = conv_geometry(x.shape(), weight_master.shape(), params);
  Products p;
  p.integer = [g](const int8_t* xq, const int8_t* q, const AccScale& s, float* y) {
    conv2d_i8t_scaled(g, xq, q, s, y);
  };
  p.packed_integer = [g](const int8_t* xq, const uint8_t* q_i2, const AccScale& s, float* y) {
    conv2d_i2t_scaled(g, xq, q_i2, s, y);
  };
  p.quantizing_integer = [g](const float* x, float beta, const int8_t* q, const AccScale& s,
                             float* y) { conv2d_i8t_scaled_from_f32(g, x, beta, q, s, y); };
  p.gradients = [g](const int8_t* xq, const float* wq, const float* dz, float* dx, float* dw) {
    conv2d_backward_f32(g, xq, wq, dz, dx, dw);
  };
  return forward_with(x, {g.n, g.c_out, g.out_h, g.out_w}, g.out_pixels(), std::move(p), post);
}

}  // namespace chimera
