// BitConv2d (SPEC §2): the convolution counterpart of BitLinear, NCHW, with stride, padding,
// dilation and groups; the integer product runs in the int8 x ternary convolution kernel.
#pragma once

#include "engine/kernels/conv_geometry.h"
#include "engine/rng.h"
#include "model/layers/ternary_layer.h"

namespace chimera {

class BitConv2d : public TernaryLayer {
 public:
  // weight_master [C_out, C_in/groups, k, k] and bias initialised like torch.nn.Conv2d.
  BitConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
            const Conv2dParams& params, bool bias, const BitLayerOptions& options, Rng& rng);

  Var forward(const Var& x);  // [N, C_in, H, W] -> [N, C_out, OH, OW]
  // Inference (eval mode, no gradient recorded): forward(x) followed by the BatchNorm, residual
  // add and ReLU of `post` (its scale, clip and bias are ignored), fused into the convolution's
  // epilogue; bit-identical to applying them one by one (int_epilogue.h).
  Var forward_fused(const Var& x, const AccScale& post);

  int64_t in_channels, out_channels, kernel_size;
  Conv2dParams params;
};

}  // namespace chimera
