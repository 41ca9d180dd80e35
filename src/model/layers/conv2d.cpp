#include "model/layers/conv2d.h"

#include "engine/ops/ops.h"
#include "model/layers/init.h"

namespace chimera {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, const Conv2dParams& p, bool with_bias, Rng& rng)
    : in_channels(in), out_channels(out), kernel_size(k), params(p) {
  CHIMERA_CHECK(in > 0 && out > 0, "Conv2d: channel counts must be positive, got ", in, " and ",
                out);
  CHIMERA_CHECK(k > 0, "Conv2d: kernel_size must be positive, got ", k);
  CHIMERA_CHECK(p.groups > 0 && in % p.groups == 0 && out % p.groups == 0,
                "Conv2d: groups=", p.groups, " must divide both channel counts (", in, ", ", out,
                ")");
  const int64_t fan_in = in / p.groups * k * k;
  weight = Var(fan_in_uniform({out, in / p.groups, k, k}, fan_in, rng), true);
  if (with_bias) bias = Var(fan_in_uniform({out}, fan_in, rng), true);
}

void Conv2d::visit_own(const ParamFn& on_param, const BufferFn&) {
  on_param("weight", weight);
  if (bias) on_param("bias", *bias);
}

Var Conv2d::forward(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 4 && x.shape()[1] == in_channels,
                "Conv2d: expected input [batch, ", in_channels, ", height, width], got ",
                shape_str(x.shape()));
  return conv2d(x, weight, bias, params);
}

}  // namespace chimera
