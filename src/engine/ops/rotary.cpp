// Rotary position embedding (RoFormer; LLaMA's adjacent-pair layout).
#include <cmath>
#include <map>
#include <memory>
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

// The table's rows for positions [first, first + len): `rows` points at position `first`.
struct RotationRows {
  std::shared_ptr<const std::vector<float>> table;
  const float* rows = nullptr;
};

// Generation rotates one position per call: recomputing its sines and cosines was about 1 % of
// a token. Each thread keeps, per (half, theta), the table from position 0 as far as it has been
// asked for (doubling), up to kCachedPositions; the values are rotation_table's either way.
constexpr int64_t kCachedPositions = 1 << 16;

RotationRows rotation_rows(int64_t first, int64_t len, int64_t half, double theta) {
  if (first + len > kCachedPositions) {
    auto table = std::make_shared<const std::vector<float>>(rotation_table(len, first, half, theta));
    return {table, table->data()};
  }
  thread_local std::map<std::pair<int64_t, double>, std::shared_ptr<const std::vector<float>>> cache;
  auto& table = cache[{half, theta}];
  const int64_t have = table ? static_cast<int64_t>(table->size()) / (half * 2) : 0;
  if (have < first + len) {
    const int64_t grow = std::min(kCachedPositions, std::max(first + len, 2 * have));
    table = std::make_shared<const std::vector<float>>(rotation_table(grow, 0, half, theta));
  }
  return {table, table->data() + first * half * 2};
}

// y = rotate(x) by +angle (sign 1) or -angle (sign -1, the backward)
void rotate(const float* x, const float* cs, int64_t batch, int64_t len, int64_t heads,
            int64_t half, float sign, float* y) {
  const int64_t row = heads * half * 2;
  parallel_for(batch * len, row, [&](int64_t bt) {
    const float* c = cs + (bt % len) * half * 2;
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
  const RotationRows cs = rotation_rows(first_position, len, half, theta);
  Tensor y = Tensor::empty(x.shape());
  rotate(x.value().f32(), cs.rows, batch, len, heads, half, 1.0f, y.f32());
  return make_op("rotary", std::move(y), {x},
                 [x, cs, batch, len, heads, half](const Tensor& g) {
                   Tensor dx = Tensor::empty(g.shape());
                   rotate(g.f32(), cs.rows, batch, len, heads, half, -1.0f, dx.f32());
                   add_grad(x, dx);
                 });
}

}  // namespace chimera
