#include "harness/experiments/optimizer_variants.h"

#include "train/optim/adam.h"
#include "train/optim/chimera21.h"

namespace chimera {

std::unique_ptr<Optimizer> make_optimizer_variant(const std::string& name, std::vector<Var> params,
                                                  double lr, const Config& config) {
  if (name == "adam") {
    AdamOptions adam;
    adam.lr = lr;
    return std::make_unique<Adam>(std::move(params), adam);
  }
  const Chimera21Options& c = config.optimizer;
  Chimera21Options o;  // the settings below come from the config, the rest stay at defaults
  o.lr = lr;
  o.beta1 = c.beta1;
  o.beta2 = c.beta2;
  o.eps_opt = c.eps_opt;
  o.weight_decay = c.weight_decay;
  o.rho_psi = c.rho_psi;
  o.lambda_gate = c.lambda_gate;
  o.kappa_min = c.kappa_min;
  o.kappa_max = c.kappa_max;
  o.log_diagnostics = true;
  if (name == "chimera21_crossgate") {
    o.kappa_gate_mode = KappaGateMode::noise_ratio;
    o.noise_threshold = c.noise_threshold;
    o.gate_sharpness = c.gate_sharpness;
  } else if (name == "chimera21_zero_freeze") {
    o.zero_grad_policy = ZeroGradPolicy::freeze;
  } else if (name == "chimera21_zero_decay") {
    o.zero_grad_policy = ZeroGradPolicy::decay;
  } else if (name == "chimera21_zero_inertia") {
    o.zero_grad_policy = ZeroGradPolicy::inertia;
  } else if (name == "chimera21_psi_int8") {
    o.psi_storage = PsiStorage::int8;
  } else {
    CHIMERA_CHECK(name == "chimera21", "unknown optimizer variant '", name,
                  "' (expected adam or chimera21[_crossgate|_zero_freeze|_zero_decay|"
                  "_zero_inertia|_psi_int8])");
  }
  return std::make_unique<Chimera21>(std::move(params), o);
}

VariantPolicy variant_policy(const Optimizer& optimizer) {
  const auto* chimera = dynamic_cast<const Chimera21*>(&optimizer);
  if (!chimera) return {"fp32", "n/a", "n/a"};
  const Chimera21Options& o = chimera->options();
  return {psi_storage_name(o.psi_storage), zero_grad_policy_name(o.zero_grad_policy),
          kappa_gate_mode_name(o.kappa_gate_mode)};
}

}  // namespace chimera
