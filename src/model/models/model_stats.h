// Ternary statistics of a whole model (SPEC §4), over its quantized layers in module order:
// ratios weighted by each layer's weight count and their entropy, unweighted means over layers,
// and the mean gamma and alphas. A model without quantized layers gives all zeros.
#pragma once

#include <optional>
#include <vector>

#include "model/layers/ternary_layer.h"

namespace chimera {

struct ModelStats {
  double global_zero_ratio = 0, global_plus_ratio = 0, global_minus_ratio = 0;
  double global_effective_bits = 0;  // entropy of the three global ratios
  double unweighted_mean_zero_ratio = 0, unweighted_mean_plus_ratio = 0,
         unweighted_mean_minus_ratio = 0, unweighted_mean_effective_bits = 0;
  double gamma = 0;              // mean over layers
  double alpha_used_mean = 0;    // mean alpha of each layer's last forward
  double alpha_target_mean = 0;  // mean alpha_target setting
  // Share of all ternary codes that changed in the last step (none before the second step),
  // and each layer's, in the model's layer order.
  std::optional<double> global_flip_rate;
  std::vector<std::optional<double>> layer_flip_rates;
};

// What the target-bits controller moves, on every ternary layer of a model at once.
void set_layers_alpha_override(const std::vector<TernaryLayer*>& layers,
                               std::optional<double> alpha);
void set_layers_alpha_target(const std::vector<TernaryLayer*>& layers, double alpha);

// Uses each layer's last stats (computed from its current state before any forward).
ModelStats model_stats(const std::vector<TernaryLayer*>& layers);

}  // namespace chimera
