// The optimizer variants the stress experiments compare, built from the config as the
// reference's compare_optimizers builds them, and their policy labels for the logs.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "harness/experiments/config.h"
#include "train/optim/optimizer.h"

namespace chimera {

inline constexpr std::array<const char*, 7> kOptimizerVariants{"adam",
                                                               "chimera21",
                                                               "chimera21_crossgate",
                                                               "chimera21_zero_freeze",
                                                               "chimera21_zero_decay",
                                                               "chimera21_zero_inertia",
                                                               "chimera21_psi_int8"};

// adam is torch's Adam with only lr set. Every chimera21* variant takes lr, betas, eps_opt,
// weight_decay, rho_psi, lambda_gate and kappa bounds from the config, logs diagnostics, and
// leaves everything else at Chimera21's defaults except what its name changes (crossgate:
// noise_ratio gate with the config's noise_threshold and gate_sharpness; zero_*: that
// zero-gradient policy; psi_int8: int8 psi storage).
std::unique_ptr<Optimizer> make_optimizer_variant(const std::string& name, std::vector<Var> params,
                                                  double lr, const Config& config);

// psi_storage, zero_grad_policy, kappa_gate_mode as logged: Chimera21's settings, or fp32, n/a,
// n/a for any other optimizer.
struct VariantPolicy {
  std::string psi_storage, zero_grad_policy, kappa_gate_mode;
};
VariantPolicy variant_policy(const Optimizer& optimizer);

}  // namespace chimera
