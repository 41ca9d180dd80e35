#include "model/models/model_stats.h"

namespace chimera {

ModelStats model_stats(const std::vector<TernaryLayer*>& layers) {
  ModelStats s;
  if (layers.empty()) return s;
  double total_weights = 0;
  int64_t flips = 0, flip_weights = 0;
  for (const TernaryLayer* layer : layers) {
    const LayerStats ls = layer->last_stats();
    s.layer_flip_rates.push_back(ls.flips ? std::optional<double>(ls.flip_rate()) : std::nullopt);
    if (ls.flips) flips += *ls.flips, flip_weights += ls.weights;
    const double count = static_cast<double>(layer->weight_master.numel());
    total_weights += count;
    s.global_zero_ratio += ls.ternary.zero_ratio * count;
    s.global_plus_ratio += ls.ternary.plus_ratio * count;
    s.global_minus_ratio += ls.ternary.minus_ratio * count;
    s.unweighted_mean_zero_ratio += ls.ternary.zero_ratio;
    s.unweighted_mean_plus_ratio += ls.ternary.plus_ratio;
    s.unweighted_mean_minus_ratio += ls.ternary.minus_ratio;
    s.unweighted_mean_effective_bits += ls.ternary.effective_bits;
    s.gamma += ls.gamma;
    s.alpha_used_mean += ls.alpha;
    s.alpha_target_mean += layer->quant.options.alpha_target;
  }
  s.global_zero_ratio /= total_weights;
  s.global_plus_ratio /= total_weights;
  s.global_minus_ratio /= total_weights;
  if (flip_weights > 0)
    s.global_flip_rate = static_cast<double>(flips) / static_cast<double>(flip_weights);
  s.global_effective_bits =
      entropy_from_ratios(s.global_zero_ratio, s.global_plus_ratio, s.global_minus_ratio);
  const double n = static_cast<double>(layers.size());
  for (double* mean : {&s.unweighted_mean_zero_ratio, &s.unweighted_mean_plus_ratio,
                       &s.unweighted_mean_minus_ratio, &s.unweighted_mean_effective_bits, &s.gamma,
                       &s.alpha_used_mean, &s.alpha_target_mean})
    *mean /= n;
  return s;
}

void set_layers_alpha_override(const std::vector<TernaryLayer*>& layers,
                               std::optional<double> alpha) {
  CHIMERA_CHECK(!alpha || *alpha >= 0.0, "alpha_override must be >= 0, got ", *alpha);
  for (TernaryLayer* layer : layers) layer->quant.options.alpha_override = alpha;
}

void set_layers_alpha_target(const std::vector<TernaryLayer*>& layers, double alpha) {
  CHIMERA_CHECK(alpha >= 0.0, "alpha_target must be >= 0, got ", alpha);
  for (TernaryLayer* layer : layers) layer->quant.options.alpha_target = alpha;
}

}  // namespace chimera
