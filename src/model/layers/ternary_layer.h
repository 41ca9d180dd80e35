// The part of BitLinear and BitConv2d that is one algorithm (SPEC §2 steps 1-9 and the
// backward): a float master weight, optional bias, the quantizer state, and a forward that
// wraps the layer's own integer product and its two float gradient products.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "engine/kernels/i2t_gemm.h"
#include "engine/kernels/int_epilogue.h"
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
  // like weight_master, gamma, alpha, clip) instead of quantizing weight_master. Its integer
  // product runs on the codes packed in the i2 layout (i2t_gemm: the linear layers), or, for a
  // layer with a quantizing product and no gradient recorded (the convolutions in inference), on
  // the int8 codes with the direct kernel. weight_master and the quantizer state are no longer
  // read (the loaders leave weight_master as the lazy zeros DeferredInit built it with, so it
  // costs no memory); the layer runs in eval mode only (a training forward is an error).
  // A layer whose inference forward reads only the packed codes (fixed_weight_reads_codes()
  // false: the linear layers) keeps no int8 copy of them: eval_weight() and a forward that
  // records a gradient decode the packed ones when they need codes.
  void set_fixed_weight(const QuantizedWeight& q);
  bool has_fixed_weight() const { return fixed_.has_value(); }

  // Inference on activations quantized once for several layers that read the same input
  // (linear_shared_input): true when this layer's forward would quantize its input per token and
  // multiply the packed fixed weight (eval mode, no gradient recorded).
  bool takes_shared_activations() const;
  // This layer's product in such a batch: acc = act.codes · q^T into y [rows, out] with the
  // epilogue its own forward applies (so y is bit for bit that forward's). row_scales receives
  // the per-row scales the epilogue points to; it must outlive the product.
  I2tFloatProduct shared_product(const QuantizedActivations& act, std::vector<float>& row_scales,
                                 float* y);

  Var weight_master;
  std::optional<Var> bias;
  TernaryWeightState quant;
  // Data parallelism (set by the trainer with --sync-batchnorm): maps this process's activation
  // absmax to the largest over every process's batch, so the per-tensor activation scale is the
  // global batch's. Unset: this batch's own.
  std::function<float(float)> sync_activation_max;

 protected:
  TernaryLayer(Init init, const BitLayerOptions& options);

  // Whether this layer's inference forward reads a fixed weight's int8 codes (the direct
  // convolution does) or only their i2 packing.
  virtual bool fixed_weight_reads_codes() const { return true; }

  struct Products {
    // x_q (i8), q (i8 codes) -> the exact int32 product, shaped out_shape, written to y as the
    // floats scale * (clip * acc) + bias (int_epilogue.h)
    std::function<void(const int8_t* xq, const int8_t* q, const AccScale& s, float* y)> integer;
    // The same from q packed in the i2 layout as [out, fan_in] (fixed weights)
    std::function<void(const int8_t* xq, const uint8_t* q_i2, const AccScale& s, float* y)>
        packed_integer;
    // Optional: `integer` from the float x and beta, quantizing on the way (used when no
    // gradient is recorded, so the codes need not be kept)
    std::function<void(const float* x, float beta, const int8_t* q, const AccScale& s, float* y)>
        quantizing_integer;
    // The float product's two gradients from x_q (i8 codes, their values), wq = clip * q as
    // floats and dz: dx = d(x_q), shaped like x, and dw = d(weight used), shaped like
    // weight_master. A null dx or dw (with its wq) is not wanted.
    std::function<void(const int8_t* xq, const float* wq, const float* dz, float* dx, float* dw)>
        gradients;
  };
  // y = (beta * gamma) * clip * acc + bias[channel]; out_shape is [outer, channels, inner...].
  // Backward, with dz = (beta * gamma) * dy and (dx, dw) = gradients(x_q, q, dz):
  // d weight_master = dw straight through the quantizer; d x = dx / beta under
  // activation_grad = ste (nothing under none); d bias = dy summed over all but the channel
  // axis. `post`'s BatchNorm, residual and ReLU (int_epilogue.h) follow in the product's
  // epilogue; only in inference (eval mode, no gradient recorded), an error otherwise.
  Var forward_with(const Var& x, const Shape& out_shape, int64_t inner, Products products,
                   const AccScale& post = {});

 private:
  // The product's epilogue for activation scale beta (betas: per row, or the tensor's one value)
  // and weight q, on top of `post`: scale, row scales (written to row_scales, which must outlive
  // the product; used only when per_row), clip, bias.
  AccScale epilogue(const QuantizedWeight& q, float beta, const std::vector<float>& betas,
                    bool per_row, const AccScale& post, std::vector<float>& row_scales) const;

  struct FixedWeight {
    QuantizedWeight q;        // codes (shaped like weight_master) undefined when
                              // !fixed_weight_reads_codes()
    std::vector<uint8_t> i2;  // the codes packed, the layout i2t_gemm reads
  };
  std::optional<FixedWeight> fixed_;
};

}  // namespace chimera
