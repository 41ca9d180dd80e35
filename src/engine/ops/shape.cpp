// Ops that change the shape; reshape and flatten share storage with their input (as torch views).
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// x [any] -> shape (one axis may be -1); dx = g reshaped back
Var reshape(const Var& x, Shape shape) {
  Tensor out = x.value().reshape(std::move(shape));
  return make_op("reshape", std::move(out), {x},
                 [x](const Tensor& g) { add_grad(x, g.reshape(x.shape())); });
}

// [N, ...] -> [N, prod(...)]
Var flatten(const Var& x) {
  CHIMERA_CHECK(x.value().dim() >= 1, "flatten: expected at least one axis [batch, ...], got ",
                shape_str(x.shape()));
  int64_t features = 1;
  for (int64_t i = 1; i < x.value().dim(); ++i) features *= x.shape()[i];
  return reshape(x, {x.shape()[0], features});
}

// [N, C, H, W] -> [N, C], the mean over each plane; dx = g / (H * W) over the plane
Var global_avg_pool2d(const Var& x) {
  CHIMERA_CHECK(x.value().dim() == 4,
                "global_avg_pool2d: expected [batch, channels, height, width], got ",
                shape_str(x.shape()));
  const int64_t n = x.shape()[0], c = x.shape()[1], plane = x.shape()[2] * x.shape()[3];
  CHIMERA_CHECK(plane > 0, "global_avg_pool2d: empty planes in ", shape_str(x.shape()));
  const float* px = x.value().f32();
  Tensor out({n, c});
  float* po = out.f32();
  parallel_for(n * c, plane, [&](int64_t i) {
    po[i] = static_cast<float>(sum_f64(plane, px + i * plane) / static_cast<double>(plane));
  });
  return make_op("global_avg_pool2d", std::move(out), {x}, [x, plane](const Tensor& g) {
    const float* pg = g.f32();
    const float count = static_cast<float>(plane);
    Tensor dx = Tensor::empty(x.shape());
    float* pd = dx.f32();
    parallel_for(g.numel(), plane, [&](int64_t i) {
      for (int64_t j = 0; j < plane; ++j) pd[i * plane + j] = pg[i] / count;
    });
    add_grad(x, dx);
  });
}

}  // namespace chimera
