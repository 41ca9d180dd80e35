// 2-D convolution on the float convolution kernels (conv2d_f32.h).
#include <vector>

#include "engine/kernels/conv2d_f32.h"
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// x [N, C_in, H, W], w [C_out, C_in/groups, kh, kw], b [C_out] -> y [N, C_out, out_h, out_w]
// dx = conv2d_backward_input(dy), dw = conv2d_backward_weight(x, dy), db = sum over N, out_h, out_w
Var conv2d(const Var& x, const Var& w, const std::optional<Var>& b, const Conv2dParams& p) {
  const ConvGeometry g = conv_geometry(x.shape(), w.shape(), p);
  if (b)
    CHIMERA_CHECK(b->shape() == Shape{g.c_out}, "conv2d: expected bias [", g.c_out, "] for weight ",
                  shape_str(w.shape()), ", got ", shape_str(b->shape()));
  const int64_t pixels = g.out_pixels();
  Tensor y = Tensor::empty({g.n, g.c_out, g.out_h, g.out_w});
  conv2d_forward_f32(g, x.value().f32(), w.value().f32(), y.f32());
  if (b) {
    const float* pb = b->value().f32();
    float* py = y.f32();
    parallel_for(g.n * g.c_out, pixels, [&](int64_t plane) {
      const float v = pb[plane % g.c_out];
      for (int64_t i = 0; i < pixels; ++i) py[plane * pixels + i] += v;
    });
  }
  std::vector<Var> inputs{x, w};
  if (b) inputs.push_back(*b);
  return make_op("conv2d", std::move(y), inputs, [x, w, b, g](const Tensor& dy) {
    const bool want_x = x.requires_grad(), want_w = w.requires_grad();
    Tensor dx = want_x ? Tensor::empty(x.shape()) : Tensor();
    Tensor dw = want_w ? Tensor::empty(w.shape()) : Tensor();
    if (want_x || want_w)
      conv2d_backward_f32(g, x.value().f32(), w.value().f32(), dy.f32(),
                          want_x ? dx.f32() : nullptr, want_w ? dw.f32() : nullptr);
    if (want_x) add_grad(x, dx);
    if (want_w) add_grad(w, dw);
    if (b && b->requires_grad()) {
      const int64_t pixels = g.out_pixels();
      const float* pg = dy.f32();
      // Each channel sums its planes in sample order: independent of the thread count.
      add_grad(*b, generate({g.c_out}, [&](int64_t c) {
        double s = 0.0;
        for (int64_t n = 0; n < g.n; ++n) s += sum_f64(pixels, pg + (n * g.c_out + c) * pixels);
        return static_cast<float>(s);
      }));
    }
  });
}

}  // namespace chimera
