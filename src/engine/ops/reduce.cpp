// Reductions to a 0-d result; sums run in double, in index order.
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {
namespace {

// dx = g * factor everywhere, for a result that is factor * sum(x).
Var reduce_all(const char* op, const Var& x, double factor) {
  const double total = sum_f64(x.numel(), x.value().f32()) * factor;
  return make_op(op, Tensor::scalar(static_cast<float>(total)), {x}, [x, factor](const Tensor& g) {
    add_grad(x, Tensor::full(x.shape(), static_cast<float>(g.item() * factor)));
  });
}

}  // namespace

// x [any] -> []
Var sum(const Var& x) {
  return reduce_all("sum", x, 1.0);
}

// x [any, at least one element] -> []
Var mean(const Var& x) {
  CHIMERA_CHECK(x.numel() > 0, "mean: the input ", shape_str(x.shape()), " has no elements");
  return reduce_all("mean", x, 1.0 / static_cast<double>(x.numel()));
}

}  // namespace chimera
