// What BitLinear and BitConv2d share (SPEC §2): settings, the weight-quantizer state
// (scale_ema, forward_step, alpha schedule), per-tensor int8 activation quantization, stats.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/quant/abs_stat.h"
#include "model/quant/ternary_stats.h"

namespace chimera {

enum class QuantMode { chimera, strict_bitnet };
QuantMode parse_quant_mode(const std::string& s);
const char* quant_mode_name(QuantMode m);

// How the gradient crosses the activation rounding: `ste` passes it straight through (the
// default, what BitNet training intends); `none` blocks it as the reference does.
enum class ActivationGrad { ste, none };
ActivationGrad parse_activation_grad(const std::string& s);
const char* activation_grad_name(ActivationGrad g);

// Where the activation scale beta comes from: one max|x| over the whole input (`tensor`, the
// reference's rule and the default) or one per row of a BitLinear's [batch, in] input (`token`,
// BitNet's per-token absmax).
enum class ActivationScale { tensor, token };
ActivationScale parse_activation_scale(const std::string& s);
const char* activation_scale_name(ActivationScale a);

struct BitLayerOptions {
  StatMode stat_mode = StatMode::mean;
  double rho_s = 0.95;
  double alpha_min = 0.0;
  double alpha_target = 0.7;
  int64_t warmup_steps = 100;
  QuantMode quant_mode = QuantMode::chimera;
  double eps_gamma = 1e-6;
  double eps_beta = 1e-6;
  std::optional<double> ste_clip = 1.0;
  std::optional<double> alpha_override;
  ActivationGrad activation_grad = ActivationGrad::ste;
  ActivationScale activation_scale = ActivationScale::tensor;

  void validate() const;  // errors name the setting and the allowed range
};

struct LayerStats {
  double gamma = 0, alpha = 0;
  TernaryStats ternary;
  // Codes that changed since the previous training forward (one optimizer step apart), as
  // Larq's flip ratio for binary networks: count and share; none before the second one.
  std::optional<int64_t> flips;
  double flip_rate() const;  // flips / weights; 0 without flips
  int64_t weights = 0;
};

// x_q = clamp(round(x / beta), -127, 127) with beta = max|x| / 127 + eps_beta over all of x, or
// per row (row_betas) when quantized by rows.
struct QuantizedActivations {
  Tensor codes;  // i8, shape of x
  float beta = 0;
  std::vector<float> row_betas;  // per row of x seen as [rows, numel / rows]; empty per tensor
};
QuantizedActivations quantize_activations(const Tensor& x, double eps_beta);
QuantizedActivations quantize_activations_by_row(const Tensor& x, int64_t rows, double eps_beta);
float activation_beta(const Tensor& x, double eps_beta);  // the beta alone
// The reference's float32 steps from an absmax: amax / 127, then + eps_beta.
float beta_from_absmax(float amax, double eps_beta);
// With the scale given (beta = amax / 127 + eps_beta from an absmax taken elsewhere, e.g. over
// every process's batch in data-parallel training).
QuantizedActivations quantize_activations_with_beta(const Tensor& x, float beta);

// The ternary weight actually used by a forward: int8 codes q, the scale gamma, the alpha that
// produced them, and the clip factor (ste_clip < 1 shrinks the used weight to clip * q).
struct QuantizedWeight {
  Tensor codes;  // i8 in {-1, 0, 1}, shape of weight_master
  float gamma = 0;
  double alpha = 0;
  float clip = 1.0f;
};

class TernaryWeightState {
 public:
  TernaryWeightState(const BitLayerOptions& options, const Tensor& weight_master);

  BitLayerOptions options;
  Tensor scale_ema;     // 0-d f32
  Tensor forward_step;  // 0-d i64

  double current_alpha() const;
  float gamma() const;  // max(scale_ema, eps_gamma)

  // Steps 3-5 of SPEC §2: in training, scale_ema moves toward abs_stat(weight) first.
  QuantizedWeight quantize(const Tensor& weight_master, bool training);
  // Steps 8-9: remember the stats, count a training forward.
  void finish_forward(const QuantizedWeight& q, bool training);

  // Stats of the last forward; before any forward, computed from the current state.
  LayerStats last_stats(const Tensor& weight_master) const;
  // Counts the last forward's stats now and lets go of its codes: for a fixed weight, whose
  // forwards do not call finish_forward again, so the stats stay those of its codes.
  void release_last_codes();

 private:
  Tensor codes_for(const Tensor& weight_master, float gamma, double alpha) const;
  // The last forward's weight; its ternary statistics are counted when first asked for (a
  // decoder's forward per token must not pay a pass over every weight for records it never
  // writes).
  struct LastForward {
    float gamma = 0;
    double alpha = 0;
    Tensor codes;
    std::optional<int64_t> flips;
  };
  std::optional<LastForward> last_;
  mutable std::optional<LayerStats> last_stats_;  // of last_, once counted
  Tensor last_train_codes_;  // of the previous training forward, for the flip count
};

// Backward helpers shared by BitLinear and BitConv2d.
Tensor used_weight_f32(const QuantizedWeight& q);  // clip * q as floats
// Straight-through mask of the clip (active only when ste_clip < 1, where |q| = 1 is clamped).
void apply_clip_mask(const QuantizedWeight& q, Tensor& grad_weight);
// dz = scale_r * dy and t /= divisor_r per row of the tensor seen as [values.size(), numel /
// rows]; one value is the whole tensor's.
Tensor scale_rows(const Tensor& dy, const std::vector<float>& scales);
void divide_rows(Tensor& t, const std::vector<float>& divisors);
// dy seen as [outer, channels, inner] summed to [channels]: the bias gradient.
Tensor channel_sum(const Tensor& dy, int64_t channels, int64_t inner);

}  // namespace chimera
