#include "engine/kernels/conv_geometry.h"

namespace chimera {

ConvGeometry conv_geometry(const Shape& x, const Shape& w, const Conv2dParams& p) {
  CHIMERA_CHECK(x.size() == 4, "conv2d: expected input [batch, channels, height, width], got ",
                shape_str(x));
  CHIMERA_CHECK(w.size() == 4, "conv2d: expected weight [out, in/groups, kh, kw], got ",
                shape_str(w));
  CHIMERA_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "conv2d: stride must be >= 1");
  CHIMERA_CHECK(p.pad_h >= 0 && p.pad_w >= 0, "conv2d: padding must be >= 0");
  CHIMERA_CHECK(p.dil_h >= 1 && p.dil_w >= 1, "conv2d: dilation must be >= 1");
  CHIMERA_CHECK(p.groups >= 1 && x[1] % p.groups == 0 && w[0] % p.groups == 0,
                "conv2d: groups=", p.groups, " must divide both channel counts (", x[1], ", ",
                w[0], ")");
  CHIMERA_CHECK(w[1] * p.groups == x[1], "conv2d: expected ", w[1] * p.groups,
                " input channels, got ", x[1], " (input ", shape_str(x), ")");
  ConvGeometry g{x[0], x[1], x[2], x[3], w[0], w[2], w[3], p, 0, 0};
  g.out_h = (g.h + 2 * p.pad_h - p.dil_h * (g.kh - 1) - 1) / p.stride_h + 1;
  g.out_w = (g.w + 2 * p.pad_w - p.dil_w * (g.kw - 1) - 1) / p.stride_w + 1;
  CHIMERA_CHECK(g.out_h > 0 && g.out_w > 0, "conv2d: kernel larger than padded input ",
                shape_str(x));
  return g;
}

}  // namespace chimera
