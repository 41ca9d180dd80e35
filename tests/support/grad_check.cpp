#include "grad_check.h"

#include <algorithm>
#include <cmath>

namespace chimera::test {

namespace {

double weighted_sum(const Tensor& out, const Tensor& weights) {
  double s = 0.0;
  for (int64_t i = 0; i < out.numel(); ++i)
    s += static_cast<double>(out.f32()[i]) * weights.f32()[i];
  return s;
}

constexpr double kStep = 1e-3;
constexpr double kGradTol = 2e-3;

}  // namespace

Tensor uniform(Rng& rng, Shape shape, double lo, double hi) {
  Tensor t(std::move(shape));
  rng.fill_uniform(t, lo, hi);
  return t;
}

Tensor away_from_zero(Tensor t, float margin) {
  float* p = t.f32();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (std::fabs(p[i]) < margin) p[i] = p[i] < 0 ? p[i] - margin : p[i] + margin;
  return t;
}
::testing::AssertionResult gradients_match(const Op& op, const std::vector<Tensor>& inputs,
                                           uint64_t seed) {
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t.clone(), true);
  Var out = op(vars);
  Rng rng(seed);
  const Tensor r = uniform(rng, out.shape());
  backward(out, r);
  auto loss = [&] {
    NoGradGuard no_grad;
    return weighted_sum(op(vars).value(), r);
  };
  for (size_t k = 0; k < vars.size(); ++k) {
    if (!vars[k].has_grad())
      return ::testing::AssertionFailure() << "input " << k << " received no gradient";
    const Tensor analytic = vars[k].grad();
    float* x = vars[k].value().f32();
    std::vector<double> numeric(analytic.numel());
    double scale = 0.0;
    for (int64_t j = 0; j < analytic.numel(); ++j) {
      const float orig = x[j];
      x[j] = static_cast<float>(orig + kStep);
      const double up = x[j], loss_up = loss();
      x[j] = static_cast<float>(orig - kStep);
      const double down = x[j], loss_down = loss();
      x[j] = orig;
      numeric[j] = (loss_up - loss_down) / (up - down);
      scale = std::max({scale, std::fabs(numeric[j]), std::fabs(double{analytic.f32()[j]})});
    }
    for (int64_t j = 0; j < analytic.numel(); ++j) {
      const double err = std::fabs(numeric[j] - analytic.f32()[j]);
      if (err > kGradTol * std::max(scale, 1e-3))
        return ::testing::AssertionFailure()
               << "input " << k << " " << shape_str(analytic.shape()) << " element " << j
               << ": backward " << analytic.f32()[j] << ", finite difference " << numeric[j]
               << " (largest gradient " << scale << ")";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace chimera::test
