// Losses, reduced to a 0-d mean.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// logits [N, C], labels [N] i64 -> mean_n(logsumexp(z_n) - z_n[label_n])
// dlogits = g / N * (softmax(z) - onehot(label))
Var cross_entropy(const Var& logits, const Tensor& labels) {
  CHIMERA_CHECK(logits.value().dim() == 2, "cross_entropy: expected logits [batch, classes], got ",
                shape_str(logits.shape()));
  const int64_t n = logits.shape()[0], c = logits.shape()[1];
  CHIMERA_CHECK(n > 0 && c > 0, "cross_entropy: empty logits ", shape_str(logits.shape()));
  CHIMERA_CHECK(labels.defined() && labels.dtype() == DType::i64 && labels.shape() == Shape{n},
                "cross_entropy: expected labels i64 [", n, "] for logits ",
                shape_str(logits.shape()), ", got ",
                labels.defined() ? dtype_name(labels.dtype()) : "undefined", " ",
                labels.defined() ? shape_str(labels.shape()) : "");
  const int64_t* pl = labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    CHIMERA_CHECK(pl[i] >= 0 && pl[i] < c, "cross_entropy: label ", pl[i], " at index ", i,
                  " is outside [0, ", c, ")");

  // Shifting by the row maximum keeps exp() from overflowing.
  const float* pz = logits.value().f32();
  std::vector<double> row_loss(n);
  Tensor softmax({n, c});
  float* ps = softmax.f32();
  parallel_for(n, c, [&](int64_t i) {
    const float* z = pz + i * c;
    const double m = *std::max_element(z, z + c);
    double s = 0.0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(z[j] - m);
    const double lse = m + std::log(s);
    for (int64_t j = 0; j < c; ++j) ps[i * c + j] = static_cast<float>(std::exp(z[j] - lse));
    row_loss[i] = lse - z[pl[i]];
  });
  double total = 0.0;
  for (double l : row_loss) total += l;

  std::vector<int64_t> label_copy(pl, pl + n);  // the caller may reuse its labels tensor
  return make_op("cross_entropy", Tensor::scalar(static_cast<float>(total / n)), {logits},
                 [logits, softmax, label_copy, n, c](const Tensor& g) {
                   const float k = static_cast<float>(g.item() / static_cast<double>(n));
                   const float* ps = softmax.f32();
                   add_grad(logits, generate(logits.shape(), [&](int64_t i) {
                              const float hit = (i % c == label_copy[i / c]) ? 1.0f : 0.0f;
                              return k * (ps[i] - hit);
                            }));
                 });
}

// pred, target same shape -> mean((pred - target)^2); dpred = g * 2 (pred - target) / numel
Var mse_loss(const Var& pred, const Tensor& target) {
  check_same_shape(pred.value(), target, "mse_loss");
  const int64_t count = pred.numel();
  CHIMERA_CHECK(count > 0, "mse_loss: empty input ", shape_str(pred.shape()));
  const float* pp = pred.value().f32();
  const float* pt = target.f32();
  Tensor diff = generate(pred.shape(), [&](int64_t i) { return pp[i] - pt[i]; });
  const float* pd = diff.f32();
  const double sq =
      sum_terms(count, [pd](int64_t i) { return static_cast<double>(pd[i]) * pd[i]; });
  return make_op("mse_loss", Tensor::scalar(static_cast<float>(sq / count)), {pred},
                 [pred, diff, count](const Tensor& g) {
                   const float k = static_cast<float>(2.0 * g.item() / static_cast<double>(count));
                   const float* pd = diff.f32();
                   add_grad(pred, generate(pred.shape(), [&](int64_t i) { return k * pd[i]; }));
                 });
}

}  // namespace chimera
