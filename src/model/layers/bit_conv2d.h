// BitConv2d (SPEC §2): the convolution counterpart of BitLinear, NCHW, with stride, padding,
// dilation and groups; the integer product runs in the int8 x ternary convolution kernel.
#pragma once

#include <optional>

#include "engine/kernels/conv_geometry.h"
#include "engine/rng.h"
#include "model/layers/bit_layer.h"
#include "model/layers/module.h"

namespace chimera {

class BitConv2d : public Module {
 public:
  BitConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
            const Conv2dParams& params, bool bias, const BitLayerOptions& options, Rng& rng);

  Var forward(const Var& x);  // [N, C_in, H, W] -> [N, C_out, OH, OW]

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  LayerStats last_stats() const { return quant.last_stats(weight_master.value()); }

  int64_t in_channels, out_channels, kernel_size;
  Conv2dParams params;
  Var weight_master;        // [C_out, C_in/groups, k, k]
  std::optional<Var> bias;  // [C_out]
  TernaryWeightState quant;
};

}  // namespace chimera
