// A float 2-D convolution layer (torch.nn.Conv2d): the stem and every conv of the fp32 baseline,
// and the stem of a first_last_fp32 model.
#pragma once

#include <optional>

#include "engine/kernels/conv_geometry.h"
#include "engine/rng.h"
#include "model/layers/module.h"

namespace chimera {

class Conv2d : public Module {
 public:
  // weight [C_out, C_in/groups, k, k] and bias (when asked for) uniform in ±1/sqrt(fan_in), drawn
  // in that order, as torch.nn.Conv2d initialises them.
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, const Conv2dParams& params,
         bool bias, Rng& rng);

  void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) override;
  Var forward(const Var& x);  // [N, C_in, H, W] -> [N, C_out, OH, OW]

  Var weight;
  std::optional<Var> bias;
  int64_t in_channels, out_channels, kernel_size;
  Conv2dParams params;
};

}  // namespace chimera
