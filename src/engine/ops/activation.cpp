// Pointwise activations.
#include <cmath>

#include "engine/kernels/elementwise_f32.h"
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// y = max(x, 0); dx = g where y > 0 (so 0 at exactly x = 0, as torch)
Var relu(const Var& x) {
  const float* px = x.value().f32();
  Tensor y = Tensor::empty(x.shape());
  float* py = y.f32();
  for_blocks(y.numel(), [&](int64_t b, int64_t e) { relu_f32(e - b, px + b, py + b); });
  return make_op("relu", y, {x}, [x, y](const Tensor& g) {
    const float* pg = g.f32();
    const float* py = y.f32();
    Tensor dx = Tensor::empty(g.shape());
    float* pd = dx.f32();
    for_blocks(dx.numel(),
               [&](int64_t b, int64_t e) { relu_backward_f32(e - b, py + b, pg + b, pd + b); });
    add_grad(x, dx);
  });
}

// y = tanh(x); dx = g * (1 - y^2)
Var tanh(const Var& x) {
  const float* px = x.value().f32();
  Tensor y = generate(x.shape(), [&](int64_t i) { return std::tanh(px[i]); });
  return make_op("tanh", y, {x}, [x, y](const Tensor& g) {
    const float* pg = g.f32();
    const float* py = y.f32();
    add_grad(x, generate(g.shape(), [&](int64_t i) { return pg[i] * (1.0f - py[i] * py[i]); }));
  });
}

}  // namespace chimera
