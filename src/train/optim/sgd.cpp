#include "train/optim/sgd.h"

#include <cmath>

namespace chimera {

void SgdOptions::validate() const {
  CHIMERA_CHECK(lr >= 0, "lr must be >= 0, got ", lr);
  CHIMERA_CHECK(momentum >= 0, "momentum must be >= 0, got ", momentum);
  CHIMERA_CHECK(weight_decay >= 0, "weight_decay must be >= 0, got ", weight_decay);
  CHIMERA_CHECK(!nesterov || (momentum > 0 && dampening == 0),
                "nesterov momentum needs momentum > 0 and dampening 0, got momentum ", momentum,
                " and dampening ", dampening);
}

// Settings are checked before the base class looks at the groups, so their errors come first.
static const SgdOptions& validated(const SgdOptions& options) {
  options.validate();
  return options;
}

Sgd::Sgd(std::vector<Var> params, SgdOptions options)
    : Sgd(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

Sgd::Sgd(std::vector<ParamGroup> groups, SgdOptions options)
    : Optimizer(std::move(groups), validated(options).lr, options.weight_decay),
      options_(options) {}

std::vector<Optimizer::StateSlot> Sgd::state_slots() const {
  if (options_.momentum == 0.0) return {};
  return {{"momentum", DType::f32}};
}

void Sgd::step() {
  for_each_param_with_grad([&](const Group& group, Var& param, ParamState& state, int64_t) {
    const bool first = ++state.step == 1;
    // Python scalars, cast to float32 where torch meets them with a float32 tensor.
    const auto weight_decay = static_cast<float>(group.weight_decay);
    const auto momentum = static_cast<float>(options_.momentum);
    const auto one_minus_dampening = static_cast<float>(1.0 - options_.dampening);
    const auto neg_lr = static_cast<float>(-group.lr);
    const bool l2 = group.weight_decay != 0.0, use_momentum = options_.momentum != 0.0;
    const bool nesterov = options_.nesterov;

    float* p = param.value().f32();
    const float* g = param.grad().f32();
    float* buf = use_momentum ? state.tensors.at("momentum").f32() : nullptr;
    const int64_t n = param.numel();
    // Every `a + alpha * b` is one torch add_/add with alpha, which the reference's build fuses.
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      float grad = l2 ? std::fma(p[i], weight_decay, g[i]) : g[i];
      if (use_momentum) {
        buf[i] = first ? grad : std::fma(grad, one_minus_dampening, buf[i] * momentum);
        grad = nesterov ? std::fma(buf[i], momentum, grad) : buf[i];
      }
      p[i] = std::fma(grad, neg_lr, p[i]);
    }
  });
}

}  // namespace chimera
