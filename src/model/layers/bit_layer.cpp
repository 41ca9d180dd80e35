#include "model/layers/bit_layer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels/quantize_i8.h"
#include "engine/threads.h"
#include "model/layers/init.h"
#include "model/quant/ema.h"
#include "model/quant/ternary.h"

namespace chimera {

QuantMode parse_quant_mode(const std::string& s) {
  if (s == "chimera") return QuantMode::chimera;
  if (s == "strict_bitnet") return QuantMode::strict_bitnet;
  CHIMERA_FAIL("quant_mode must be 'chimera' or 'strict_bitnet', got '", s, "'");
}
const char* quant_mode_name(QuantMode m) {
  return m == QuantMode::chimera ? "chimera" : "strict_bitnet";
}

ActivationGrad parse_activation_grad(const std::string& s) {
  if (s == "ste") return ActivationGrad::ste;
  if (s == "none") return ActivationGrad::none;
  CHIMERA_FAIL("activation_grad must be 'ste' or 'none', got '", s, "'");
}
const char* activation_grad_name(ActivationGrad g) {
  return g == ActivationGrad::ste ? "ste" : "none";
}

ActivationScale parse_activation_scale(const std::string& s) {
  if (s == "tensor") return ActivationScale::tensor;
  if (s == "token") return ActivationScale::token;
  CHIMERA_FAIL("activation_scale must be 'tensor' or 'token', got '", s, "'");
}
const char* activation_scale_name(ActivationScale a) {
  return a == ActivationScale::tensor ? "tensor" : "token";
}

void BitLayerOptions::validate() const {
  CHIMERA_CHECK(rho_s >= 0.0 && rho_s <= 1.0, "rho_s must be in [0, 1], got ", rho_s);
  CHIMERA_CHECK(warmup_steps >= 0, "warmup_steps must be >= 0, got ", warmup_steps);
  CHIMERA_CHECK(eps_gamma > 0.0, "eps_gamma must be > 0, got ", eps_gamma);
  CHIMERA_CHECK(eps_beta > 0.0, "eps_beta must be > 0, got ", eps_beta);
  CHIMERA_CHECK(alpha_min >= 0.0, "alpha_min must be >= 0, got ", alpha_min);
  CHIMERA_CHECK(alpha_target >= 0.0, "alpha_target must be >= 0, got ", alpha_target);
  CHIMERA_CHECK(!ste_clip || *ste_clip > 0.0, "ste_clip must be > 0 (or none), got ", *ste_clip);
  CHIMERA_CHECK(!alpha_override || *alpha_override >= 0.0, "alpha_override must be >= 0, got ",
                *alpha_override);
}

float activation_beta(const Tensor& x, double eps_beta) {
  CHIMERA_CHECK(x.numel() > 0, "cannot quantize an empty activation tensor");
  return beta_from_absmax(abs_max_f32(x.numel(), x.f32()), eps_beta);
}

float beta_from_absmax(float amax, double eps_beta) {
  return amax / 127.0f + static_cast<float>(eps_beta);
}

QuantizedActivations quantize_activations(const Tensor& x, double eps_beta) {
  return quantize_activations_with_beta(x, activation_beta(x, eps_beta));
}

QuantizedActivations quantize_activations_with_beta(const Tensor& x, float beta) {
  QuantizedActivations out;
  out.beta = beta;
  out.codes = Tensor::empty(x.shape(), DType::i8);
  quantize_i8(x.numel(), x.f32(), out.beta, out.codes.data<int8_t>());
  return out;
}

QuantizedActivations quantize_activations_by_row(const Tensor& x, int64_t rows, double eps_beta) {
  CHIMERA_CHECK(rows > 0 && x.numel() > 0 && x.numel() % rows == 0,
                "cannot quantize activations ", shape_str(x.shape()), " in ", rows, " rows");
  const int64_t width = x.numel() / rows;
  QuantizedActivations out;
  out.codes = Tensor::empty(x.shape(), DType::i8);
  out.row_betas.resize(static_cast<size_t>(rows));
  const float* px = x.f32();
  int8_t* pc = out.codes.data<int8_t>();
  parallel_for(rows, width, [&](int64_t r) {
    // The per-tensor rule on one row.
    const float beta = beta_from_absmax(abs_max_f32(width, px + r * width), eps_beta);
    out.row_betas[r] = beta;
    quantize_i8(width, px + r * width, beta, pc + r * width);
  });
  return out;
}

// Under DeferredInit the master is zeros a loader will not write: its statistic is 0, taken
// without reading (and so mapping) every page of it.
TernaryWeightState::TernaryWeightState(const BitLayerOptions& opts, const Tensor& weight_master)
    : options(opts),
      scale_ema(Tensor::scalar(
          DeferredInit::active() ? 0.0f : abs_stat(weight_master, opts.stat_mode))),
      forward_step(Tensor({}, DType::i64)) {
  options.validate();
}

double TernaryWeightState::current_alpha() const {
  if (options.alpha_override) return *options.alpha_override;
  if (options.warmup_steps == 0) return options.alpha_target;
  const double step = static_cast<double>(forward_step.data<int64_t>()[0]);
  const double progress =
      options.warmup_steps == 1
          ? 1.0
          : std::min(step / static_cast<double>(options.warmup_steps - 1), 1.0);
  return options.alpha_min + progress * (options.alpha_target - options.alpha_min);
}

float TernaryWeightState::gamma() const {
  return std::fmax(scale_ema.f32()[0], static_cast<float>(options.eps_gamma));
}

Tensor TernaryWeightState::codes_for(const Tensor& weight_master, float gamma,
                                     double alpha) const {
  return options.quant_mode == QuantMode::strict_bitnet
             ? quantize_strict_i8(weight_master, gamma)
             : quantize_threshold_i8(weight_master, gamma, alpha);
}

QuantizedWeight TernaryWeightState::quantize(const Tensor& weight_master, bool training) {
  if (training) {
    float& s = scale_ema.f32()[0];
    s = ema(s, abs_stat(weight_master, options.stat_mode), options.rho_s);
  }
  QuantizedWeight q;
  q.gamma = gamma();
  q.alpha = current_alpha();
  q.codes = codes_for(weight_master, q.gamma, q.alpha);
  q.clip = options.ste_clip ? static_cast<float>(std::min(*options.ste_clip, 1.0)) : 1.0f;
  return q;
}

double LayerStats::flip_rate() const {
  return flips && weights > 0 ? static_cast<double>(*flips) / static_cast<double>(weights) : 0.0;
}

void TernaryWeightState::finish_forward(const QuantizedWeight& q, bool training) {
  LastForward f{q.gamma, q.alpha, q.codes, std::nullopt};
  if (training) {
    forward_step.data<int64_t>()[0] += 1;
    if (last_train_codes_.defined() && last_train_codes_.numel() == q.codes.numel()) {
      const int8_t *now = q.codes.data<int8_t>(), *before = last_train_codes_.data<int8_t>();
      int64_t flips = 0;
      for (int64_t i = 0; i < q.codes.numel(); ++i) flips += now[i] != before[i];
      f.flips = flips;
    }
    last_train_codes_ = q.codes;  // never written again: each forward makes new codes
  } else if (last_) {
    f.flips = last_->flips;  // an evaluation changes no weight: keep the last step's count
  }
  // The same codes again (a fixed weight, evaluated repeatedly): the counted stats still hold.
  const bool same = last_ && last_->codes.raw() == f.codes.raw() && last_->gamma == f.gamma &&
                    last_->alpha == f.alpha && last_->flips == f.flips;
  if (!same) last_stats_.reset();
  last_ = std::move(f);
}

LayerStats TernaryWeightState::last_stats(const Tensor& weight_master) const {
  if (last_) {
    if (!last_stats_)
      last_stats_ = LayerStats{last_->gamma, last_->alpha, ternary_stats(last_->codes),
                               last_->flips, last_->codes.numel()};
    return *last_stats_;
  }
  const float g = gamma();
  const double a = current_alpha();
  return LayerStats{g, a, ternary_stats(codes_for(weight_master, g, a)), std::nullopt,
                    weight_master.numel()};
}

void TernaryWeightState::release_last_codes() {
  if (!last_) return;
  last_stats(Tensor());  // counted from last_->codes and kept
  last_->codes = Tensor();
}

Tensor used_weight_f32(const QuantizedWeight& q) {
  Tensor w = Tensor::empty(q.codes.shape());
  const int8_t* c = q.codes.data<int8_t>();
  float* pw = w.f32();
  for (int64_t i = 0; i < w.numel(); ++i) pw[i] = q.clip * static_cast<float>(c[i]);
  return w;
}

void apply_clip_mask(const QuantizedWeight& q, Tensor& grad_weight) {
  if (q.clip >= 1.0f) return;  // clamp(q, -clip, clip) is the identity on ternary values
  const int8_t* c = q.codes.data<int8_t>();
  float* g = grad_weight.f32();
  for (int64_t i = 0; i < grad_weight.numel(); ++i)
    if (c[i] != 0) g[i] = 0.0f;
}

namespace {

// f(i, row value) for every element of t seen as [values.size(), numel / rows], blocks of
// elements split over the threads (one value per tensor is one row).
template <class F>
void for_rows(int64_t n, const std::vector<float>& values, F f) {
  const int64_t width = n / static_cast<int64_t>(values.size());
  for_blocks(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e;) {
      const int64_t r = i / width, end = std::min(e, (r + 1) * width);
      const float v = values[r];
      for (; i < end; ++i) f(i, v);
    }
  });
}

}  // namespace

Tensor scale_rows(const Tensor& dy, const std::vector<float>& scales) {
  Tensor dz = Tensor::empty(dy.shape());
  const float* in = dy.f32();
  float* out = dz.f32();
  for_rows(dy.numel(), scales, [&](int64_t i, float s) { out[i] = s * in[i]; });
  return dz;
}

void divide_rows(Tensor& t, const std::vector<float>& divisors) {
  float* p = t.f32();
  for_rows(t.numel(), divisors, [&](int64_t i, float d) { p[i] /= d; });
}

Tensor channel_sum(const Tensor& dy, int64_t channels, int64_t inner) {
  Tensor out({channels});
  std::vector<double> acc(static_cast<size_t>(channels), 0.0);
  const float* p = dy.f32();
  const int64_t outer = dy.numel() / (channels * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) acc[c] += p[(o * channels + c) * inner + i];
  for (int64_t c = 0; c < channels; ++c) out.f32()[c] = static_cast<float>(acc[c]);
  return out;
}

}  // namespace chimera
