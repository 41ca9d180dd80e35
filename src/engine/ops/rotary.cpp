// Rotary position embedding (RoFormer; LLaMA's adjacent-pair layout).
#include <cmath>
#include <vector>

#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

namespace {

// cos and sin of position p's angle for pair i at [(t * half + i) * 2 + {0, 1}], computed in
// double and rounded to float.
std::vector<float> rotation_table(int64_t len, int64_t first, int64_t half, double theta) {
  std::vector<float> cs(static_cast<size_t>(len * half * 2));
  for (int64_t t = 0; t < len; ++t)
    for (int64_t i = 0; i < half; ++i) {
      const double freq = std::pow(theta, -2.0 * static_cast<double>(i) / (2.0 * half));
      const double angle = static_cast<double>(first + t) * freq;
      cs[(t * half + i) * 2] = static_cast<float>(std::cos(angle));
      cs[(t * half + i) * 2 + 1] = static_cast<float>(std::sin(angle));
    }
  return cs;
}

// y = rotate(x) by +angle (sign 1) or -angle (sign -1, the backward)
void rotate(const float* x, const std::vector<float>& cs, int64_t batch, int64_t len,
            int64_t heads, int64_t half, float sign, float* y) {
  const int64_t row = heads * half * 2;
  parallel_for(batch * len, row, [&](int64_t bt) {
    const float* c = cs.data() + (bt % len) * half * 2;
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < half; ++i) {
        const int64_t at = bt * row + (h * half + i) * 2;
        const float co = c[2 * i], si = sign * c[2 * i + 1];
        const float x0 = x[at], x1 = x[at + 1];
        y[at] = x0 * co - x1 * si;
        y[at + 1] = x0 * si + x1 * co;
      }
  });
}

}  // namespace

// (y0, y1) = (x0 cos - x1 sin, x0 sin + x1 cos); the gradient turns back by the same angle.
Var rotary(const Var& x, int64_t first_position, double theta) {
  CHIMERA_CHECK(x.value().dim() == 4 && x.shape()[3] % 2 == 0,
                "rotary: expected [batch, tokens, heads, head_dim] with an even head_dim, got ",
                shape_str(x.shape()));
  CHIMERA_CHECK(first_position >= 0 && theta > 0, "rotary: bad position ", first_position,
                " or theta ", theta);
  const int64_t batch = x.shape()[0], len = x.shape()[1], heads = x.shape()[2],
                half = x.shape()[3] / 2;
  std::vector<float> cs = rotation_table(len, first_position, half, theta);
  Tensor y = Tensor::empty(x.shape());
  rotate(x.value().f32(), cs, batch, len, heads, half, 1.0f, y.f32());
  return make_op("rotary", std::move(y), {x},
                 [x, cs = std::move(cs), batch, len, heads, half](const Tensor& g) {
                   Tensor dx = Tensor::empty(g.shape());
                   rotate(g.f32(), cs, batch, len, heads, half, -1.0f, dx.f32());
                   add_grad(x, dx);
                 });
}

}  // namespace chimera
