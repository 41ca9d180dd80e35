#include "train/optim/adam.h"

#include <cmath>

#include "engine/threads.h"

namespace chimera {

void AdamOptions::validate() const {
  CHIMERA_CHECK(lr >= 0, "lr must be >= 0, got ", lr);
  CHIMERA_CHECK(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got ", beta1);
  CHIMERA_CHECK(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got ", beta2);
  CHIMERA_CHECK(eps >= 0, "eps must be >= 0, got ", eps);
  CHIMERA_CHECK(weight_decay >= 0, "weight_decay must be >= 0, got ", weight_decay);
}

// Settings are checked before the base class looks at the groups, so their errors come first.
static const AdamOptions& validated(const AdamOptions& options) {
  options.validate();
  return options;
}

Adam::Adam(std::vector<Var> params, AdamOptions options)
    : Adam(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Adam(std::move(groups), options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options, bool decoupled_weight_decay)
    : Optimizer(std::move(groups), validated(options).lr, options.weight_decay),
      options_(options),
      decoupled_(decoupled_weight_decay) {}

std::vector<Optimizer::StateSlot> Adam::state_slots() const {
  return {{"m", DType::f32}, {"v", DType::f32}};
}

void Adam::step() {
  for_each_param_with_grad([&](const Group& group, Var& param, ParamState& state, int64_t) {
    const auto t = static_cast<double>(++state.step);
    const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
    const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
    // Python scalars, cast to float32 where torch meets them with a float32 tensor.
    const auto beta1 = static_cast<float>(options_.beta1);
    const auto one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
    const auto beta2 = static_cast<float>(options_.beta2);
    const auto one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
    const auto bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
    const auto eps = static_cast<float>(options_.eps);
    const auto neg_step_size = static_cast<float>(-(group.lr / bias_correction1));
    const auto weight_decay = static_cast<float>(group.weight_decay);
    const auto decay = static_cast<float>(1.0 - group.lr * group.weight_decay);
    const bool decoupled = decoupled_, l2 = !decoupled_ && group.weight_decay != 0.0;

    float* p = param.value().f32();
    const float* g = param.grad().f32();
    float* m = state.tensors.at("m").f32();
    float* v = state.tensors.at("v").f32();
    const int64_t n = param.numel();
    // Fused multiply-adds stand where the reference's torch build fuses (add_ with alpha,
    // addcmul_); addcdiv_ computes p + (value * m) / denom.
    // About eight elementwise passes' work per element: worth two threads from 4096 on.
    parallel_for(n, 8, [&](int64_t i) {
      if (decoupled) p[i] *= decay;
      const float grad = l2 ? std::fma(p[i], weight_decay, g[i]) : g[i];
      m[i] = std::fma(grad, one_minus_beta1, m[i] * beta1);
      v[i] = std::fma(one_minus_beta2 * grad, grad, v[i] * beta2);
      const float denom = std::sqrt(v[i]) / bias_correction2_sqrt + eps;
      p[i] = p[i] + neg_step_size * m[i] / denom;
    });
  });
}

AdamOptions AdamW::defaults() {
  AdamOptions options;
  options.weight_decay = 1e-2;
  return options;
}

AdamW::AdamW(std::vector<Var> params, AdamOptions options)
    : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamOptions options)
    : Adam(std::move(groups), options, true) {}

}  // namespace chimera
