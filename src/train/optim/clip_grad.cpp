#include "train/optim/clip_grad.h"

#include <cmath>

namespace chimera {

double clip_grad_norm(std::vector<Var>& params, double max_norm) {
  double sum = 0.0;
  for (const Var& p : params) {
    if (!p.has_grad()) continue;
    const Tensor& g = p.grad();
    const float* pg = g.f32();
    for (int64_t i = 0; i < g.numel(); ++i) sum += static_cast<double>(pg[i]) * pg[i];
  }
  const double norm = std::sqrt(sum);
  if (max_norm > 0 && norm > max_norm) {
    const auto k = static_cast<float>(max_norm / (norm + 1e-6));
    for (Var& p : params) {
      if (!p.has_grad()) continue;
      float* pg = p.grad().f32();
      for (int64_t i = 0; i < p.grad().numel(); ++i) pg[i] *= k;
    }
  }
  return norm;
}

}  // namespace chimera
