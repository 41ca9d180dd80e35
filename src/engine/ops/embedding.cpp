// Token embedding: a row lookup; its gradient adds each token's row gradient back.
#include <algorithm>

#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// out[t] = weight[ids[t]]; dweight[v] = sum of g[t] over the tokens t with ids[t] = v, added in
// token order (each column block on one thread, so the order never changes)
Var embedding(const Var& weight, const Tensor& ids) {
  CHIMERA_CHECK(weight.value().dim() == 2, "embedding: expected weight [vocab, dim], got ",
                shape_str(weight.shape()));
  CHIMERA_CHECK(ids.defined() && ids.dtype() == DType::i64,
                "embedding: token ids must be an i64 tensor");
  const int64_t vocab = weight.shape()[0], dim = weight.shape()[1], n = ids.numel();
  const int64_t* pid = ids.data<int64_t>();
  for (int64_t t = 0; t < n; ++t)
    CHIMERA_CHECK(pid[t] >= 0 && pid[t] < vocab, "embedding: token id ", pid[t], " at index ", t,
                  " is outside the vocabulary [0, ", vocab, ")");
  Shape out_shape = ids.shape();
  out_shape.push_back(dim);
  Tensor y = Tensor::empty(out_shape);
  const float* pw = weight.value().f32();
  float* py = y.f32();
  parallel_for(n, dim, [&](int64_t t) { std::copy_n(pw + pid[t] * dim, dim, py + t * dim); });
  std::vector<int64_t> tokens(pid, pid + n);  // the caller may reuse its ids tensor
  return make_op("embedding", std::move(y), {weight}, [weight, tokens, vocab, dim](const Tensor& g) {
    Tensor dw({vocab, dim});
    float* pd = dw.f32();
    const float* pg = g.f32();
    constexpr int64_t kCols = 64;
    const auto n = static_cast<int64_t>(tokens.size());
    parallel_for((dim + kCols - 1) / kCols, n * kCols, [&](int64_t block) {
      const int64_t c0 = block * kCols, c1 = std::min(dim, c0 + kCols);
      for (int64_t t = 0; t < n; ++t)
        for (int64_t c = c0; c < c1; ++c) pd[tokens[t] * dim + c] += pg[t * dim + c];
    });
    add_grad(weight, dw);
  });
}

}  // namespace chimera
