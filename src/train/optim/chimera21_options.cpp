#include "train/optim/chimera21_options.h"

#include <cmath>
#include <iterator>

#include "engine/error.h"

namespace chimera {

namespace {

constexpr const char* kZeroGradPolicies[] = {"standard", "freeze", "decay", "inertia"};
constexpr const char* kKappaGateModes[] = {"none", "noise_ratio"};
constexpr const char* kPsiStorages[] = {"fp32", "int8"};

template <class Enum, size_t N>
Enum parse_enum(const char* setting, const char* const (&names)[N], const std::string& name) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i]) return static_cast<Enum>(i);
  std::string allowed;
  for (size_t i = 0; i < N; ++i) allowed += std::string(i ? ", " : "") + names[i];
  CHIMERA_FAIL(setting, " must be one of ", allowed, ", got '", name, "'");
}

// Range checks written so that NaN fails them too.
void check_unit_interval(const char* setting, double value, bool closed_above) {
  const bool ok = value >= 0.0 && (closed_above ? value <= 1.0 : value < 1.0);
  CHIMERA_CHECK(ok, setting, " must be in [0, 1", closed_above ? "]" : ")", ", got ", value);
}

}  // namespace

ZeroGradPolicy parse_zero_grad_policy(const std::string& name) {
  return parse_enum<ZeroGradPolicy>("zero_grad_policy", kZeroGradPolicies, name);
}
KappaGateMode parse_kappa_gate_mode(const std::string& name) {
  return parse_enum<KappaGateMode>("kappa_gate_mode", kKappaGateModes, name);
}
PsiStorage parse_psi_storage(const std::string& name) {
  return parse_enum<PsiStorage>("psi_storage", kPsiStorages, name);
}
const char* zero_grad_policy_name(ZeroGradPolicy policy) {
  return kZeroGradPolicies[static_cast<int>(policy)];
}
const char* kappa_gate_mode_name(KappaGateMode mode) {
  return kKappaGateModes[static_cast<int>(mode)];
}
const char* psi_storage_name(PsiStorage storage) {
  return kPsiStorages[static_cast<int>(storage)];
}

void Chimera21Options::validate() const {
  CHIMERA_CHECK(lr >= 0, "lr must be >= 0, got ", lr);
  check_unit_interval("beta1", beta1, false);
  check_unit_interval("beta2", beta2, false);
  CHIMERA_CHECK(eps_opt > 0, "eps_opt must be > 0, got ", eps_opt);
  CHIMERA_CHECK(weight_decay >= 0, "weight_decay must be >= 0, got ", weight_decay);
  check_unit_interval("rho_psi", rho_psi, true);
  CHIMERA_CHECK(std::isfinite(lambda_gate), "lambda_gate must be finite, got ", lambda_gate);
  CHIMERA_CHECK(kappa_min > 0, "kappa_min must be > 0, got ", kappa_min);
  CHIMERA_CHECK(kappa_max >= kappa_min, "kappa_max must be >= kappa_min (", kappa_min, "), got ",
                kappa_max);
  check_unit_interval("idle_decay", idle_decay, true);
  CHIMERA_CHECK(std::isfinite(noise_threshold), "noise_threshold must be finite, got ",
                noise_threshold);
  CHIMERA_CHECK(gate_sharpness >= 0, "gate_sharpness must be >= 0, got ", gate_sharpness);
  CHIMERA_CHECK(static_cast<size_t>(zero_grad_policy) < std::size(kZeroGradPolicies),
                "zero_grad_policy must be one of standard, freeze, decay, inertia");
  CHIMERA_CHECK(static_cast<size_t>(kappa_gate_mode) < std::size(kKappaGateModes),
                "kappa_gate_mode must be one of none, noise_ratio");
  CHIMERA_CHECK(static_cast<size_t>(psi_storage) < std::size(kPsiStorages),
                "psi_storage must be one of fp32, int8");
}

}  // namespace chimera
