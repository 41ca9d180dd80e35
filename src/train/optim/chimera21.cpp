#include "train/optim/chimera21.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "train/optim/torch_numerics.h"

namespace chimera {

namespace {

// One step's scalars. The reference computes them in double (Python) and torch casts each to
// float32 when it meets a float32 tensor; keeping the same casts keeps the rounding the same.
struct Coefficients {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float bias_correction1, bias_correction2, eps;
  float rho, one_minus_rho, idle_decay, lambda, kappa_min, kappa_max;
  float noise_threshold, sharpness;
  float lr, neg_lr, decay;
  bool apply_decay;
  ZeroGradPolicy policy;
  bool noise_gate;
};

struct Buffers {
  float* p;
  const float* g;
  float* m;
  float* v;
  float* psi_f32;  // exactly one of psi_f32 / psi_i8 is set
  int8_t* psi_i8;
};

// The per-element quantities the diagnostics reduce, for one parameter.
struct DiagElements {
  explicit DiagElements(int64_t n)
      : kappa(n),
        kappa_sq(n),
        noise_ratio(n),
        effective_lr(n),
        update(n),
        param(n),
        psi_abs(n),
        collision(n) {}
  std::vector<float> kappa, kappa_sq, noise_ratio, effective_lr, update, param, psi_abs, collision;
};

// A step's diagnostic sums, in double like the reference's Python floats; each parameter adds
// float32 tensor sums (in torch's order, see torch_numerics.h) as the reference does.
struct DiagSums {
  double count = 0, sum_kappa = 0, sum_kappa_sq = 0;
  double min_kappa = std::numeric_limits<double>::infinity();
  double max_kappa = -std::numeric_limits<double>::infinity();
  double sum_noise_ratio = 0, sum_effective_lr = 0, sum_active_effective_lr = 0;
  double active_count = 0, zero_count = 0;
  double sum_update_sq = 0, sum_param_sq = 0, sum_update_abs = 0, max_update_abs = 0;
  double sum_psi_abs = 0, psi_saturation_count = 0, sum_collision = 0;
};

float sign(float x) {
  return static_cast<float>((x > 0.0f) - (x < 0.0f));
}

// Element i of one parameter: steps 2-8 of SPEC §3. Fused multiply-adds stand where the
// reference's torch build fuses (add_ with alpha, addcmul_); every other operation rounds.
void update_element(const Coefficients& c, const Buffers& b, int64_t i, DiagElements* diag) {
  const float g = b.g[i];
  float p = b.p[i];
  if (c.apply_decay) p *= c.decay;
  const float m = std::fma(g, c.one_minus_beta1, b.m[i] * c.beta1);
  const float v = std::fma(c.one_minus_beta2 * g, g, b.v[i] * c.beta2);
  b.m[i] = m;
  b.v[i] = v;
  const float m_hat = m / c.bias_correction1;
  const float v_hat = v / c.bias_correction2;
  const float s = std::sqrt(v_hat);
  const float denom = s + c.eps;
  const float d = m_hat / denom;

  const float psi_old = b.psi_f32 ? b.psi_f32[i] : static_cast<float>(b.psi_i8[i]) / 127.0f;
  const float agreement = sign(m) * sign(g);  // the updated m
  float psi = psi_old * c.rho + agreement * c.one_minus_rho;
  if (g == 0.0f) {
    switch (c.policy) {
      case ZeroGradPolicy::standard:
        break;
      case ZeroGradPolicy::freeze:
        psi = psi_old;
        break;
      case ZeroGradPolicy::decay:
        psi = psi_old * c.idle_decay;
        break;
      case ZeroGradPolicy::inertia:
        psi = psi_old * c.rho + sign(m) * sign(m) * c.one_minus_rho;
        break;
    }
  }

  float kappa = std::clamp(torch_expf(c.lambda * psi), c.kappa_min, c.kappa_max);
  const float noise_ratio = s / (std::fabs(m_hat) + c.eps);
  if (c.noise_gate) {
    const float gate =
        1.0f / (1.0f + torch_expf(-(c.sharpness * (c.noise_threshold - noise_ratio))));
    kappa = 1.0f + gate * (kappa - 1.0f);
  }
  // kappa above used the unquantized psi; only the stored copy is rounded.
  if (b.psi_f32) {
    b.psi_f32[i] = psi;
  } else {
    const float scaled = std::nearbyint(std::clamp(psi, -1.0f, 1.0f) * 127.0f);
    b.psi_i8[i] = static_cast<int8_t>(std::clamp(scaled, -127.0f, 127.0f));
  }

  if (diag) {
    const float lr_kappa = c.lr * kappa;
    diag->kappa[i] = kappa;
    diag->kappa_sq[i] = kappa * kappa;
    diag->noise_ratio[i] = noise_ratio;
    diag->effective_lr[i] = lr_kappa / denom;
    diag->update[i] = std::fabs(lr_kappa * d);
    diag->param[i] = p;  // after weight decay, before the update
    diag->psi_abs[i] = std::fabs(psi);
    // The reference's float log rounds to nearest; glibc's logf now and then does not.
    const auto log_kappa = static_cast<float>(std::log(double{kappa}));
    diag->collision[i] = std::fabs(log_kappa) * noise_ratio;
  }
  b.p[i] = std::fma(kappa * d, c.neg_lr, p);
}

// Adds one parameter's n > 0 elements to the step's sums.
void accumulate(DiagSums& sums, const DiagElements& e, const float* grad, int64_t n) {
  auto sum = [n](const std::vector<float>& x) { return double{torch_sum_f32(x.data(), n)}; };
  std::vector<float> active_effective_lr;
  for (int64_t i = 0; i < n; ++i)
    if (grad[i] != 0.0f) active_effective_lr.push_back(e.effective_lr[i]);
  const auto active = static_cast<int64_t>(active_effective_lr.size());
  const double update_norm = torch_norm2_f32(e.update.data(), n);
  const double param_norm = torch_norm2_f32(e.param.data(), n);
  const auto [min_kappa, max_kappa] = std::minmax_element(e.kappa.begin(), e.kappa.end());

  sums.count += static_cast<double>(n);
  sums.sum_kappa += sum(e.kappa);
  sums.sum_kappa_sq += sum(e.kappa_sq);
  sums.min_kappa = std::min<double>(sums.min_kappa, *min_kappa);
  sums.max_kappa = std::max<double>(sums.max_kappa, *max_kappa);
  sums.sum_noise_ratio += sum(e.noise_ratio);
  sums.sum_effective_lr += sum(e.effective_lr);
  sums.active_count += static_cast<double>(active);
  sums.zero_count += static_cast<double>(n - active);
  if (active > 0) sums.sum_active_effective_lr += torch_sum_f32(active_effective_lr.data(), active);
  sums.sum_update_sq += update_norm * update_norm;
  sums.sum_param_sq += param_norm * param_norm;
  sums.sum_update_abs += sum(e.update);
  sums.max_update_abs =
      std::max<double>(sums.max_update_abs, *std::max_element(e.update.begin(), e.update.end()));
  sums.sum_psi_abs += sum(e.psi_abs);
  sums.psi_saturation_count += static_cast<double>(
      std::count_if(e.psi_abs.begin(), e.psi_abs.end(), [](float a) { return a >= 0.999f; }));
  sums.sum_collision += sum(e.collision);
}

std::vector<std::pair<std::string, double>> summarize(const DiagSums& d) {
  const double mean_kappa = d.sum_kappa / d.count;
  const double variance = std::max(d.sum_kappa_sq / d.count - mean_kappa * mean_kappa, 0.0);
  const double update_norm = std::sqrt(d.sum_update_sq);
  const double zero_ratio = d.zero_count / d.count;
  return {
      {"mean_kappa", mean_kappa},
      {"std_kappa", std::sqrt(variance)},
      {"min_kappa", d.min_kappa},
      {"max_kappa", d.max_kappa},
      {"mean_noise_ratio", d.sum_noise_ratio / d.count},
      {"mean_effective_lr", d.sum_effective_lr / d.count},
      {"active_mean_effective_lr",
       d.active_count > 0 ? d.sum_active_effective_lr / d.active_count : 0.0},
      {"applied_update_norm", update_norm},
      {"param_update_ratio", update_norm / (std::sqrt(d.sum_param_sq) + 1e-12)},
      {"mean_update_abs", d.sum_update_abs / d.count},
      {"max_update_abs", d.max_update_abs},
      {"zero_grad_ratio", zero_ratio},
      {"active_grad_ratio", 1.0 - zero_ratio},
      {"psi_abs_mean", d.sum_psi_abs / d.count},
      {"psi_saturation_ratio", d.psi_saturation_count / d.count},
      {"collision_score", d.sum_collision / d.count},
  };
}

}  // namespace

// Settings are checked before the base class looks at the groups, so their errors come first.
static const Chimera21Options& validated(const Chimera21Options& options) {
  options.validate();
  return options;
}

Chimera21::Chimera21(std::vector<Var> params, Chimera21Options options)
    : Chimera21(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

Chimera21::Chimera21(std::vector<ParamGroup> groups, Chimera21Options options)
    : Optimizer(std::move(groups), validated(options).lr, options.weight_decay),
      options_(options) {}

std::vector<Optimizer::StateSlot> Chimera21::state_slots() const {
  const DType psi = options_.psi_storage == PsiStorage::int8 ? DType::i8 : DType::f32;
  return {{"m", DType::f32}, {"v", DType::f32}, {"psi", psi}};
}

void Chimera21::step() {
  const Chimera21Options& o = options_;
  DiagSums total;
  for_each_param_with_grad([&](const Group& group, Var& param, ParamState& state, int64_t) {
    const int64_t t = ++state.step;
    Coefficients c;
    c.beta1 = static_cast<float>(o.beta1);
    c.one_minus_beta1 = static_cast<float>(1.0 - o.beta1);
    c.beta2 = static_cast<float>(o.beta2);
    c.one_minus_beta2 = static_cast<float>(1.0 - o.beta2);
    c.bias_correction1 = static_cast<float>(1.0 - std::pow(o.beta1, static_cast<double>(t)));
    c.bias_correction2 = static_cast<float>(1.0 - std::pow(o.beta2, static_cast<double>(t)));
    c.eps = static_cast<float>(o.eps_opt);
    c.rho = static_cast<float>(o.rho_psi);
    c.one_minus_rho = static_cast<float>(1.0 - o.rho_psi);
    c.idle_decay = static_cast<float>(o.idle_decay);
    c.lambda = static_cast<float>(o.lambda_gate);
    c.kappa_min = static_cast<float>(o.kappa_min);
    c.kappa_max = static_cast<float>(o.kappa_max);
    c.noise_threshold = static_cast<float>(o.noise_threshold);
    c.sharpness = static_cast<float>(o.gate_sharpness);
    c.lr = static_cast<float>(group.lr);
    c.neg_lr = static_cast<float>(-group.lr);
    c.decay = static_cast<float>(1.0 - group.lr * group.weight_decay);
    c.apply_decay = group.weight_decay != 0.0;
    c.policy = o.zero_grad_policy;
    c.noise_gate = o.kappa_gate_mode == KappaGateMode::noise_ratio;

    const bool int8_psi = o.psi_storage == PsiStorage::int8;
    Tensor& psi = state.tensors.at("psi");
    const Buffers b{param.value().f32(),
                    param.grad().f32(),
                    state.tensors.at("m").f32(),
                    state.tensors.at("v").f32(),
                    int8_psi ? nullptr : psi.f32(),
                    int8_psi ? psi.data<int8_t>() : nullptr};
    const int64_t n = param.numel();
    std::optional<DiagElements> diag;
    if (o.log_diagnostics) diag.emplace(n);
    DiagElements* elements = diag ? &*diag : nullptr;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) update_element(c, b, i, elements);
    if (diag && n > 0) accumulate(total, *diag, b.g, n);
  });
  if (o.log_diagnostics) {
    diagnostics_.clear();
    if (total.count > 0) diagnostics_ = summarize(total);
  }
}

}  // namespace chimera
