#include "train/optim/chimera21.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
  bool int8_psi;
};

// Per-step diagnostic sums over elements, in double like the reference's Python floats.
struct DiagSums {
  double count = 0, sum_kappa = 0, sum_kappa_sq = 0;
  double min_kappa = std::numeric_limits<double>::infinity();
  double max_kappa = -std::numeric_limits<double>::infinity();
  double sum_noise_ratio = 0, sum_effective_lr = 0, sum_active_effective_lr = 0;
  double active_count = 0, zero_count = 0;
  double sum_update_sq = 0, sum_param_sq = 0, sum_update_abs = 0, max_update_abs = 0;
  double sum_psi_abs = 0, psi_saturation_count = 0, sum_collision = 0;

  void merge(const DiagSums& o) {
    count += o.count;
    sum_kappa += o.sum_kappa;
    sum_kappa_sq += o.sum_kappa_sq;
    min_kappa = std::min(min_kappa, o.min_kappa);
    max_kappa = std::max(max_kappa, o.max_kappa);
    sum_noise_ratio += o.sum_noise_ratio;
    sum_effective_lr += o.sum_effective_lr;
    sum_active_effective_lr += o.sum_active_effective_lr;
    active_count += o.active_count;
    zero_count += o.zero_count;
    sum_update_sq += o.sum_update_sq;
    sum_param_sq += o.sum_param_sq;
    sum_update_abs += o.sum_update_abs;
    max_update_abs = std::max(max_update_abs, o.max_update_abs);
    sum_psi_abs += o.sum_psi_abs;
    psi_saturation_count += o.psi_saturation_count;
    sum_collision += o.sum_collision;
  }
};

float sign(float x) { return static_cast<float>((x > 0.0f) - (x < 0.0f)); }

struct Buffers {
  float* p;
  const float* g;
  float* m;
  float* v;
  float* psi_f32;  // exactly one of psi_f32 / psi_i8 is set
  int8_t* psi_i8;
};

// Elements [begin, end) of one parameter: steps 2-8 of SPEC §3, with diagnostics when asked.
void update_range(const Coefficients& c, const Buffers& b, int64_t begin, int64_t end,
                  DiagSums* diag) {
  for (int64_t i = begin; i < end; ++i) {
    const float g = b.g[i];
    float p = b.p[i];
    if (c.apply_decay) p *= c.decay;
    float m = b.m[i] * c.beta1;
    m = m + c.one_minus_beta1 * g;
    float v = b.v[i] * c.beta2;
    v = v + c.one_minus_beta2 * g * g;
    b.m[i] = m;
    b.v[i] = v;
    const float m_hat = m / c.bias_correction1;
    const float v_hat = v / c.bias_correction2;
    const float s = std::sqrt(v_hat);
    const float denom = s + c.eps;
    const float d = m_hat / denom;

    const float psi_old = b.psi_f32 ? b.psi_f32[i] : static_cast<float>(b.psi_i8[i]) / 127.0f;
    const float agreement = sign(m) * sign(g);
    float psi = psi_old * c.rho + agreement * c.one_minus_rho;
    if (g == 0.0f) {
      switch (c.policy) {
        case ZeroGradPolicy::standard: break;
        case ZeroGradPolicy::freeze: psi = psi_old; break;
        case ZeroGradPolicy::decay: psi = psi_old * c.idle_decay; break;
        case ZeroGradPolicy::inertia:
          psi = psi_old * c.rho + sign(m) * sign(m) * c.one_minus_rho;
          break;
      }
    }

    float kappa = std::clamp(std::exp(c.lambda * psi), c.kappa_min, c.kappa_max);
    const float noise_ratio = s / (std::fabs(m_hat) + c.eps);
    if (c.noise_gate) {
      const float gate = 1.0f / (1.0f + std::exp(-(c.sharpness * (c.noise_threshold - noise_ratio))));
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
      const float effective_lr = lr_kappa / denom;
      const float update = std::fabs(lr_kappa * d);
      const float abs_psi = std::fabs(psi);
      diag->count += 1;
      diag->sum_kappa += kappa;
      diag->sum_kappa_sq += kappa * kappa;
      diag->min_kappa = std::min<double>(diag->min_kappa, kappa);
      diag->max_kappa = std::max<double>(diag->max_kappa, kappa);
      diag->sum_noise_ratio += noise_ratio;
      diag->sum_effective_lr += effective_lr;
      if (g != 0.0f) {
        diag->active_count += 1;
        diag->sum_active_effective_lr += effective_lr;
      } else {
        diag->zero_count += 1;
      }
      diag->sum_update_sq += static_cast<double>(update) * update;
      diag->sum_param_sq += static_cast<double>(p) * p;
      diag->sum_update_abs += update;
      diag->max_update_abs = std::max<double>(diag->max_update_abs, update);
      diag->sum_psi_abs += abs_psi;
      diag->psi_saturation_count += abs_psi >= 0.999f;
      diag->sum_collision += std::fabs(std::log(kappa)) * noise_ratio;
    }
    b.p[i] = p + c.neg_lr * (kappa * d);
  }
}

// Elements per block: blocks run in parallel, and their diagnostic sums merge in block order,
// so results never depend on the thread count.
constexpr int64_t kBlock = 4096;

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

Chimera21::Chimera21(std::vector<Var> params, Chimera21Options options)
    : Chimera21(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

Chimera21::Chimera21(std::vector<ParamGroup> groups, Chimera21Options options)
    : Optimizer(std::move(groups), options.lr, options.weight_decay), options_(options) {
  options_.validate();
}

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
    c.int8_psi = o.psi_storage == PsiStorage::int8;

    Tensor& psi = state.tensors.at("psi");
    const Buffers b{param.value().f32(), param.grad().f32(), state.tensors.at("m").f32(),
                    state.tensors.at("v").f32(), c.int8_psi ? nullptr : psi.f32(),
                    c.int8_psi ? psi.data<int8_t>() : nullptr};
    const int64_t n = param.numel();
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    std::vector<DiagSums> partial(o.log_diagnostics ? blocks : 0);
#pragma omp parallel for schedule(static) if (blocks > 1)
    for (int64_t k = 0; k < blocks; ++k)
      update_range(c, b, k * kBlock, std::min(n, (k + 1) * kBlock),
                   o.log_diagnostics ? &partial[k] : nullptr);
    for (const DiagSums& d : partial) total.merge(d);
  });
  if (o.log_diagnostics) diagnostics_ = total.count > 0 ? summarize(total) : decltype(diagnostics_){};
}

}  // namespace chimera
