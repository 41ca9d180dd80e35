// The part of BitLinear and BitConv2d that is one algorithm (SPEC §2 steps 1-9 and the
// backward): a float master weight, optional bias, the quantizer state, and a forward that
// wraps the layer's own integer product and its two float gradient products.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "model/layers/bit_layer.h"
#include "model/layers/module.h"

namespace chimera {

class TernaryLayer : public Module {
 public:
  // The initial weight and bias, drawn in that order (a struct, because the evaluation order
  // of constructor arguments is unspecified and the draw order decides the values).
  struct Init {
    Tensor weight;
    std::optional<Tensor> bias;
  };

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  LayerStats last_stats() const { return quant.last_stats(weight_master.value()); }

  // The ternary weight an eval-mode forward uses: the fixed one when set, else the quantization
  // of weight_master with the current state (which stays unchanged).
  QuantizedWeight eval_weight();

  // Inference from stored weights (a model file): from now on the layer uses `q` (codes shaped
  // like weight_master, gamma, alpha, clip) instead of quantizing weight_master, and its integer
  // product runs on the codes packed in the i2 layout. weight_master and the quantizer state
  // are no longer read; the layer runs in eval mode only (a training forward is an error).
  void set_fixed_weight(const QuantizedWeight& q);
  bool has_fixed_weight() const { return fixed_.has_value(); }

  Var weight_master;
  std::optional<Var> bias;
  TernaryWeightState quant;

 protected:
  TernaryLayer(Init init, const BitLayerOptions& options);

  struct Products {
    // x_q (i8), q (i8 codes) -> int32 accumulators of shape out_shape
    std::function<void(const int8_t* xq, const int8_t* q, int32_t* acc)> integer;
    // The same accumulators from q packed in the i2 layout as [out, fan_in] (fixed weights)
    std::function<void(const int8_t* xq, const uint8_t* q_i2, int32_t* acc)> packed_integer;
    // x_q and dz as floats -> d(weight used), shaped like weight_master
    std::function<void(const float* xq, const float* dz, float* dw)> weight_grad;
    // clip * q and dz as floats -> d(x_q), shaped like x
    std::function<void(const float* wq, const float* dz, float* dx)> input_grad;
  };
  // y = (beta * gamma) * clip * acc + bias[channel]; out_shape is [outer, channels, inner...].
  // Backward, with dz = (beta * gamma) * dy: d weight_master = weight_grad(x_q, dz) straight
  // through the quantizer; d x = input_grad(q, dz) / beta under activation_grad = ste (nothing
  // under none); d bias = dy summed over all but the channel axis.
  Var forward_with(const Var& x, const Shape& out_shape, int64_t inner, Products products);

 private:
  struct FixedWeight {
    QuantizedWeight q;
    std::vector<uint8_t> i2;  // q.codes packed, the layout i2t_gemm reads
  };
  std::optional<FixedWeight> fixed_;
};

}  // namespace chimera
