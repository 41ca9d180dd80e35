#include "model/layers/bit_linear.h"

#include "engine/kernels/elementwise_f32.h"
#include "engine/kernels/gemm_f32.h"
#include "engine/kernels/i2t_gemm.h"
#include "engine/kernels/i8t_gemm.h"
#include "engine/threads.h"
#include "model/layers/init.h"

namespace chimera {

static TernaryLayer::Init linear_init(int64_t in, int64_t out, bool with_bias, Rng& rng) {
  CHIMERA_CHECK(in > 0 && out > 0, "BitLinear: in_features and out_features must be positive, got ",
                in, " and ", out);
  TernaryLayer::Init init{fan_in_uniform({out, in}, in, rng), std::nullopt};
  if (with_bias) init.bias = fan_in_uniform({out}, in, rng);
  return init;
}

BitLinear::BitLinear(int64_t in, int64_t out, bool with_bias, const BitLayerOptions& options,
                     Rng& rng)
    : TernaryLayer(linear_init(in, out, with_bias, rng), options),
      in_features(in),
      out_features(out) {}

// x [B, in], q [out, in]: acc = x_q · q^T; d(weight used) = dz^T · x_q; d x_q = dz · q.
Var BitLinear::forward(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 2 && x.shape()[1] == in_features,
                "BitLinear: expected input shape [batch, ", in_features, "], got ",
                shape_str(x.shape()));
  const int64_t B = x.shape()[0], in = in_features, out = out_features;
  Products p;
  p.integer = [=](const int8_t* xq, const int8_t* q, const AccScale& s, float* y) {
    Tensor acc = Tensor::empty({B, out}, DType::i32);
    i8t_gemm(B, out, in, xq, in, q, in, acc.data<int32_t>(), out);
    scale_acc_f32(B, out, 1, acc.data<int32_t>(), s, y);
  };
  p.packed_integer = [=](const int8_t* xq, const uint8_t* q_i2, const AccScale& s, float* y) {
    i2t_gemm_f32(B, out, in, xq, in, q_i2, s, y, out);
  };
  p.gradients = [=](const int8_t* xq, const float* wq, const float* dz, float* dx, float* dw) {
    if (dw) {
      Tensor xf = Tensor::empty({B, in});
      float* pf = xf.f32();
      for_blocks(B * in, [&](int64_t b, int64_t e) { i8_to_f32(e - b, xq + b, pf + b); });
      gemm_f32(true, false, out, in, B, 1.0f, dz, out, xf.f32(), in, 0.0f, dw, in);
    }
    if (dx) gemm_f32(false, false, B, in, out, 1.0f, dz, out, wq, in, 0.0f, dx, in);
  };
  return forward_with(x, {B, out}, 1, std::move(p));
}

}  // namespace chimera
