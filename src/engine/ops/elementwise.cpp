// Elementwise arithmetic. a and b have the same shape, or b has one element that is broadcast
// over a; the result has a's shape. The gradient of a broadcast b is the sum over a.
#include <cmath>

#include "engine/kernels/elementwise_f32.h"
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {
namespace {

// Reads b[i], or b[0] for every i when b is broadcast.
struct Operand {
  const float* p;
  int64_t step;
  float operator[](int64_t i) const { return p[i * step]; }
};

// Validates the operands; true when b is broadcast over a.
bool broadcasts(const char* op, const Var& a, const Var& b) {
  if (a.shape() == b.shape()) return false;
  CHIMERA_CHECK(b.numel() == 1, op, ": shapes ", shape_str(a.shape()), " and ",
                shape_str(b.shape()),
                " do not match (the second operand needs the first's shape or one element)");
  return true;
}

Operand operand(const Var& b, bool broadcast) {
  return {b.value().f32(), broadcast ? 0 : 1};
}

// Sends b its per-element gradient, summed when b was broadcast.
void add_grad_operand(const Var& b, const Tensor& per_element, bool broadcast) {
  if (!broadcast) {
    add_grad(b, per_element);
    return;
  }
  const double total = sum_f64(per_element.numel(), per_element.f32());
  add_grad(b, Tensor::full(b.shape(), static_cast<float>(total)));
}

}  // namespace

// out = a + b; da = g, db = g
Var add(const Var& a, const Var& b) {
  const bool bc = broadcasts("add", a, b);
  const float* pa = a.value().f32();
  const Operand pb = operand(b, bc);
  Tensor out;
  if (bc) {
    out = generate(a.shape(), [&](int64_t i) { return pa[i] + pb[i]; });
  } else {
    out = Tensor::empty(a.shape());
    float* po = out.f32();
    for_blocks(out.numel(),
               [&](int64_t s, int64_t e) { add_f32(e - s, pa + s, pb.p + s, po + s); });
  }
  return make_op("add", std::move(out), {a, b}, [a, b, bc](const Tensor& g) {
    add_grad(a, g);
    add_grad_operand(b, g, bc);
  });
}

// out = a - b; da = g, db = -g
Var sub(const Var& a, const Var& b) {
  const bool bc = broadcasts("sub", a, b);
  const float* pa = a.value().f32();
  const Operand pb = operand(b, bc);
  Tensor out = generate(a.shape(), [&](int64_t i) { return pa[i] - pb[i]; });
  return make_op("sub", std::move(out), {a, b}, [a, b, bc](const Tensor& g) {
    add_grad(a, g);
    if (!b.requires_grad()) return;
    const float* pg = g.f32();
    add_grad_operand(b, generate(g.shape(), [&](int64_t i) { return -pg[i]; }), bc);
  });
}

// out = a * b; da = g * b, db = g * a
Var mul(const Var& a, const Var& b) {
  const bool bc = broadcasts("mul", a, b);
  const float* pa = a.value().f32();
  const Operand pb = operand(b, bc);
  Tensor out = generate(a.shape(), [&](int64_t i) { return pa[i] * pb[i]; });
  return make_op("mul", std::move(out), {a, b}, [a, b, bc](const Tensor& g) {
    const float* pg = g.f32();
    const float* pa = a.value().f32();
    const Operand pb = operand(b, bc);
    if (a.requires_grad())
      add_grad(a, generate(g.shape(), [&](int64_t i) { return pg[i] * pb[i]; }));
    if (b.requires_grad())
      add_grad_operand(b, generate(g.shape(), [&](int64_t i) { return pg[i] * pa[i]; }), bc);
  });
}

// out = a / b; da = g / b, db = -g * a / b^2
Var div(const Var& a, const Var& b) {
  const bool bc = broadcasts("div", a, b);
  const float* pa = a.value().f32();
  const Operand pb = operand(b, bc);
  Tensor out = generate(a.shape(), [&](int64_t i) { return pa[i] / pb[i]; });
  return make_op("div", std::move(out), {a, b}, [a, b, bc](const Tensor& g) {
    const float* pg = g.f32();
    const float* pa = a.value().f32();
    const Operand pb = operand(b, bc);
    if (a.requires_grad())
      add_grad(a, generate(g.shape(), [&](int64_t i) { return pg[i] / pb[i]; }));
    if (b.requires_grad())
      add_grad_operand(
          b, generate(g.shape(), [&](int64_t i) { return -pg[i] * pa[i] / (pb[i] * pb[i]); }), bc);
  });
}

// out = a^e; da = g * e * a^(e-1), and 0 for e = 0 (as torch, which avoids 0 * inf at a = 0)
Var pow(const Var& a, double exponent) {
  const float* pa = a.value().f32();
  Tensor out = generate(a.shape(), [&](int64_t i) {
    return static_cast<float>(std::pow(static_cast<double>(pa[i]), exponent));
  });
  return make_op("pow", std::move(out), {a}, [a, exponent](const Tensor& g) {
    const float* pg = g.f32();
    const float* pa = a.value().f32();
    add_grad(a, generate(g.shape(), [&](int64_t i) {
               if (exponent == 0.0) return 0.0f;
               return static_cast<float>(pg[i] * exponent *
                                         std::pow(static_cast<double>(pa[i]), exponent - 1.0));
             }));
  });
}

// out = a * s; da = g * s
Var scale(const Var& a, double s) {
  const float* pa = a.value().f32();
  const float sf = static_cast<float>(s);
  Tensor out = generate(a.shape(), [&](int64_t i) { return pa[i] * sf; });
  return make_op("scale", std::move(out), {a}, [a, sf](const Tensor& g) {
    const float* pg = g.f32();
    add_grad(a, generate(g.shape(), [&](int64_t i) { return pg[i] * sf; }));
  });
}

// out = a + s; da = g
Var add_scalar(const Var& a, double s) {
  const float* pa = a.value().f32();
  const float sf = static_cast<float>(s);
  Tensor out = generate(a.shape(), [&](int64_t i) { return pa[i] + sf; });
  return make_op("add_scalar", std::move(out), {a}, [a](const Tensor& g) { add_grad(a, g); });
}

}  // namespace chimera
