// Pointwise activations.
#include <cmath>

#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// y = max(x, 0); dx = g where y > 0 (so 0 at exactly x = 0, as torch)
Var relu(const Var& x) {
  const float* px = x.value().f32();
  Tensor y = generate(x.shape(), [&](int64_t i) { return px[i] > 0.0f ? px[i] : 0.0f; });
  return make_op("relu", y, {x}, [x, y](const Tensor& g) {
    const float* pg = g.f32();
    const float* py = y.f32();
    add_grad(x, generate(g.shape(), [&](int64_t i) { return py[i] > 0.0f ? pg[i] : 0.0f; }));
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
