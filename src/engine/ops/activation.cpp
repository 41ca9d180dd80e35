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

// y = r * r with r = max(x, 0); dx = g * 2r
Var relu_squared(const Var& x) {
  const float* px = x.value().f32();
  Tensor y = generate(x.shape(), [&](int64_t i) {
    const float r = px[i] > 0.0f ? px[i] : 0.0f;
    return r * r;
  });
  return make_op("relu_squared", y, {x}, [x](const Tensor& g) {
    const float* px = x.value().f32();
    const float* pg = g.f32();
    add_grad(x, generate(g.shape(), [&](int64_t i) {
               const float r = px[i] > 0.0f ? px[i] : 0.0f;
               return pg[i] * (2.0f * r);
             }));
  });
}

namespace {

// exp(-a) for the elements [b, e) of a block from for_blocks, into e_neg.
void exp_neg(const float* a, int64_t b, int64_t e, float* e_neg) {
  for (int64_t i = b; i < e; ++i) e_neg[i - b] = -a[i];
  exp_f32(e - b, e_neg, e_neg);
}

}  // namespace

// y = silu(a) * b with silu(a) = a / (1 + exp(-a)) (torch's formula);
// da = g * b * s * (1 + a * (1 - s)) with s = sigmoid(a); db = g * silu(a).
// exp_f32 takes blocks of for_blocks' size through a buffer on the stack.
Var swiglu(const Var& gate, const Var& up) {
  check_same_shape(gate.value(), up.value(), "swiglu");
  const float* pa = gate.value().f32();
  const float* pb = up.value().f32();
  Tensor y = Tensor::empty(gate.shape());
  float* py = y.f32();
  for_blocks(y.numel(), [&](int64_t b, int64_t e) {
    float en[kForBlock];
    exp_neg(pa, b, e, en);
    for (int64_t i = b; i < e; ++i) py[i] = pa[i] / (1.0f + en[i - b]) * pb[i];
  });
  return make_op("swiglu", y, {gate, up}, [gate, up](const Tensor& g) {
    const float* pa = gate.value().f32();
    const float* pb = up.value().f32();
    const float* pg = g.f32();
    Tensor da, db;
    float* pda = nullptr;
    float* pdb = nullptr;
    if (gate.requires_grad()) da = Tensor::empty(g.shape()), pda = da.f32();
    if (up.requires_grad()) db = Tensor::empty(g.shape()), pdb = db.f32();
    for_blocks(g.numel(), [&](int64_t b, int64_t e) {
      float en[kForBlock];
      exp_neg(pa, b, e, en);
      for (int64_t i = b; i < e; ++i) {
        if (pda) {
          const float s = 1.0f / (1.0f + en[i - b]);
          pda[i] = pg[i] * pb[i] * (s * (1.0f + pa[i] * (1.0f - s)));
        }
        if (pdb) pdb[i] = pg[i] * (pa[i] / (1.0f + en[i - b]));
      }
    });
    if (pda) add_grad(gate, da);
    if (pdb) add_grad(up, db);
  });
}

}  // namespace chimera
