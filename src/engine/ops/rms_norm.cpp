// RMSNorm over the last axis (the LLaMA / BitNet normalisation).
#include <cmath>
#include <vector>

#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

// Per row of D values: r = 1 / sqrt(mean(x^2) + eps) (the mean summed in double in
// reduce_f64.h's order, rounded to float), n = x * r, y = n * w.
// Backward with dn = g * w: dx = r * (dn - n * sum(dn * n) / D); dw = sum over rows of g * n.
Var rms_norm(const Var& x, const Var& weight, double eps) {
  CHIMERA_CHECK(x.value().dim() >= 1, "rms_norm: input must have at least one axis");
  const int64_t dim = x.shape().back();
  CHIMERA_CHECK(weight.value().dim() == 1 && weight.shape()[0] == dim,
                "rms_norm: expected weight [", dim, "] for input ", shape_str(x.shape()),
                ", got ", shape_str(weight.shape()));
  CHIMERA_CHECK(dim > 0, "rms_norm: the normalised axis is empty");
  const int64_t rows = x.numel() / dim;
  const float* px = x.value().f32();
  const float* pw = weight.value().f32();
  std::vector<float> r(static_cast<size_t>(rows));
  Tensor y = Tensor::empty(x.shape());
  float* py = y.f32();
  parallel_for(rows, dim, [&](int64_t i) {
    const float* xr = px + i * dim;
    const auto ms = static_cast<float>(sum_sq_f64(dim, xr) / static_cast<double>(dim));
    r[i] = 1.0f / std::sqrt(ms + static_cast<float>(eps));
    for (int64_t j = 0; j < dim; ++j) py[i * dim + j] = (xr[j] * r[i]) * pw[j];
  });
  return make_op("rms_norm", std::move(y), {x, weight}, [x, weight, r, rows, dim](const Tensor& g) {
    const float* px = x.value().f32();
    const float* pw = weight.value().f32();
    const float* pg = g.f32();
    if (x.requires_grad()) {
      Tensor dx = Tensor::empty(x.shape());
      float* pd = dx.f32();
      parallel_for(rows, dim, [&](int64_t i) {
        const float* xr = px + i * dim;
        const float* gr = pg + i * dim;
        double dot = 0.0;
        for (int64_t j = 0; j < dim; ++j)
          dot += static_cast<double>(gr[j] * pw[j]) * (xr[j] * r[i]);
        const auto k = static_cast<float>(dot / static_cast<double>(dim));
        for (int64_t j = 0; j < dim; ++j)
          pd[i * dim + j] = r[i] * (gr[j] * pw[j] - (xr[j] * r[i]) * k);
      });
      add_grad(x, dx);
    }
    if (weight.requires_grad()) {
      std::vector<double> acc(static_cast<size_t>(dim), 0.0);
      parallel_for(dim, rows, [&](int64_t j) {
        double s = 0.0;
        for (int64_t i = 0; i < rows; ++i)
          s += static_cast<double>(pg[i * dim + j]) * (px[i * dim + j] * r[i]);
        acc[j] = s;
      });
      add_grad(weight, generate({dim}, [&](int64_t j) { return static_cast<float>(acc[j]); }));
    }
  });
}

}  // namespace chimera
