// Chimera21's settings (SPEC §3) with their defaults, validation and the names of its
// enumerations as they appear in configs and logs.
#pragma once

#include <string>

namespace chimera {

// What the agreement trace psi does at elements whose gradient is exactly zero.
enum class ZeroGradPolicy { standard, freeze, decay, inertia };
// Whether kappa is pulled back to 1 where the noise ratio sqrt(v̂)/|m̂| is high.
enum class KappaGateMode { none, noise_ratio };
// How psi is stored between steps: float32, or int8 with psi = stored / 127.
enum class PsiStorage { fp32, int8 };

// Each parse_* accepts exactly the names *_name returns and names the allowed values otherwise.
ZeroGradPolicy parse_zero_grad_policy(const std::string& name);
KappaGateMode parse_kappa_gate_mode(const std::string& name);
PsiStorage parse_psi_storage(const std::string& name);
const char* zero_grad_policy_name(ZeroGradPolicy policy);
const char* kappa_gate_mode_name(KappaGateMode mode);
const char* psi_storage_name(PsiStorage storage);

struct Chimera21Options {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps_opt = 1e-8;
  double weight_decay = 0.0;
  double rho_psi = 0.95;
  double lambda_gate = 0.1;
  double kappa_min = 0.5;
  double kappa_max = 2.0;
  bool log_diagnostics = false;
  ZeroGradPolicy zero_grad_policy = ZeroGradPolicy::standard;
  double idle_decay = 0.95;
  KappaGateMode kappa_gate_mode = KappaGateMode::none;
  double noise_threshold = 2.0;
  double gate_sharpness = 4.0;
  PsiStorage psi_storage = PsiStorage::fp32;

  // Throws naming the first setting out of its range, e.g. "beta1 must be in [0, 1), got 1".
  void validate() const;
};

}  // namespace chimera
