// Matrix products on the float GEMM.
#include <vector>

#include "engine/kernels/gemm_f32.h"
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// a [M, K] x b [K, N] -> [M, N]; da = g b^T, db = a^T g
Var matmul(const Var& a, const Var& b) {
  CHIMERA_CHECK(a.value().dim() == 2 && b.value().dim() == 2 && a.shape()[1] == b.shape()[0],
                "matmul: expected [M, K] and [K, N], got ", shape_str(a.shape()), " and ",
                shape_str(b.shape()));
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  Tensor out({m, n});
  gemm_f32(false, false, m, n, k, 1.0f, a.value().f32(), k, b.value().f32(), n, 0.0f, out.f32(), n);
  return make_op("matmul", std::move(out), {a, b}, [a, b, m, k, n](const Tensor& g) {
    if (a.requires_grad()) {
      Tensor da({m, k});
      gemm_f32(false, true, m, k, n, 1.0f, g.f32(), n, b.value().f32(), n, 0.0f, da.f32(), k);
      add_grad(a, da);
    }
    if (b.requires_grad()) {
      Tensor db({k, n});
      gemm_f32(true, false, k, n, m, 1.0f, a.value().f32(), k, g.f32(), n, 0.0f, db.f32(), n);
      add_grad(b, db);
    }
  });
}

// x [N, in], w [out, in], b [out] -> y = x w^T + b [N, out]; dx = g w, dw = g^T x, db = sum_N g
Var linear(const Var& x, const Var& w, const std::optional<Var>& b) {
  CHIMERA_CHECK(x.value().dim() == 2 && w.value().dim() == 2 && x.shape()[1] == w.shape()[1],
                "linear: expected input [batch, in] and weight [out, in], got ",
                shape_str(x.shape()), " and ", shape_str(w.shape()));
  const int64_t rows = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
  if (b)
    CHIMERA_CHECK(b->shape() == Shape{out}, "linear: expected bias [", out, "] for weight ",
                  shape_str(w.shape()), ", got ", shape_str(b->shape()));
  Tensor y({rows, out});
  float* py = y.f32();
  if (b) {
    const float* pb = b->value().f32();
    parallel_for(rows * out, [&](int64_t i) { py[i] = pb[i % out]; });
  }
  gemm_f32(false, true, rows, out, in, 1.0f, x.value().f32(), in, w.value().f32(), in,
           b ? 1.0f : 0.0f, py, out);
  std::vector<Var> inputs{x, w};
  if (b) inputs.push_back(*b);
  return make_op("linear", std::move(y), inputs, [x, w, b, rows, in, out](const Tensor& g) {
    if (x.requires_grad()) {
      Tensor dx({rows, in});
      gemm_f32(false, false, rows, in, out, 1.0f, g.f32(), out, w.value().f32(), in, 0.0f, dx.f32(),
               in);
      add_grad(x, dx);
    }
    if (w.requires_grad()) {
      Tensor dw({out, in});
      gemm_f32(true, false, out, in, rows, 1.0f, g.f32(), out, x.value().f32(), in, 0.0f, dw.f32(),
               in);
      add_grad(w, dw);
    }
    if (b && b->requires_grad()) {
      // Rows are added in order, so the sum is the same for any thread count.
      std::vector<double> acc(out, 0.0);
      const float* pg = g.f32();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < out; ++j) acc[j] += pg[r * out + j];
      add_grad(*b, generate({out}, [&](int64_t j) { return static_cast<float>(acc[j]); }));
    }
  });
}

}  // namespace chimera
