#include "harness/experiments/optimizer_stress_records.h"

#include <algorithm>
#include <optional>

#include "harness/experiments/optimizer_variants.h"
#include "harness/log/py_format.h"
#include "train/optim/chimera21.h"

namespace chimera {

namespace {

// The diagnostics a step record carries, in the reference's order.
const char* const kStepDiagnostics[] = {
    "mean_kappa",          "mean_noise_ratio",   "active_mean_effective_lr",
    "applied_update_norm", "param_update_ratio", "mean_update_abs",
    "max_update_abs",      "collision_score",    "zero_grad_ratio"};

// Bytes psi would take in float32 for every parameter that has psi state (0 without psi).
int64_t psi_fp32_bytes(const Optimizer& optimizer) {
  int64_t total = 0;
  for (int64_t i = 0; i < optimizer.num_params(); ++i) {
    const ParamState* state = optimizer.state(i);
    if (!state) continue;
    auto it = state->tensors.find("psi");
    if (it != state->tensors.end()) total += it->second.numel() * 4;
  }
  return total;
}

// The non-null values of `key`, in record order.
std::vector<double> defined_values(const std::vector<Json>& records, const char* key) {
  std::vector<double> values;
  for (const Json& r : records)
    if (r.contains(key) && !r[key].is_null()) values.push_back(r[key].get<double>());
  return values;
}

// Python's sum(values) / len(values): left to right in double.
std::optional<double> mean_of(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

Json or_null(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  if (values.size() % 2) return values[middle];
  return (values[middle - 1] + values[middle]) / 2.0;
}

}  // namespace

Json optimizer_step_record(const StepContext& ctx, const Optimizer& optimizer, int64_t step,
                           double loss, double step_time_ms) {
  Json r;
  r["run_id"] = std::string(kCompareOptimizersScript) + "-" + ctx.optimizer_name + "-seed-" +
                std::to_string(ctx.seed);
  r["script"] = kCompareOptimizersScript;
  r["record_type"] = "step";
  r["problem"] = ctx.problem;
  r["optimizer_name"] = ctx.optimizer_name;
  r["step"] = step;
  r["loss"] = loss;
  r["step_time_ms"] = step_time_ms;

  const auto* chimera = dynamic_cast<const Chimera21*>(&optimizer);
  for (const char* key : kStepDiagnostics) {
    r[key] = nullptr;
    if (!chimera) continue;
    for (const auto& [name, value] : chimera->last_diagnostics())
      if (name == key) r[key] = value;
  }

  const StateMemory memory = optimizer.state_memory();
  const int64_t psi_reference = psi_fp32_bytes(optimizer);
  r["optimizer_state_bytes"] = memory.total;
  r["psi_state_bytes"] = memory.psi;
  r["psi_memory_ratio_vs_fp32"] =
      psi_reference == 0
          ? Json(nullptr)
          : Json(static_cast<double>(memory.psi) / static_cast<double>(psi_reference));
  const VariantPolicy policy = variant_policy(optimizer);
  r["psi_storage"] = policy.psi_storage;
  r["zero_grad_policy"] = policy.zero_grad_policy;
  r["kappa_gate_mode"] = policy.kappa_gate_mode;
  r["lr"] = ctx.lr;
  r["seed"] = ctx.seed;
  r["timestamp_utc"] = timestamp_utc();
  return r;
}

Json optimizer_summary_record(const std::vector<Json>& steps, int64_t timing_warmup_steps) {
  CHIMERA_CHECK(!steps.empty(), "a summary needs at least one step record");
  const Json& final = steps.back();
  std::vector<double> timing;
  for (const Json& r : steps)
    if (r["step"].get<int64_t>() > timing_warmup_steps)
      timing.push_back(r["step_time_ms"].get<double>());
  if (timing.empty()) timing = defined_values(steps, "step_time_ms");
  const std::vector<double> collision = defined_values(steps, "collision_score");

  Json s;
  s["run_id"] = final["run_id"];
  s["script"] = kCompareOptimizersScript;
  s["record_type"] = "summary";
  s["problem"] = final["problem"];
  s["optimizer_name"] = final["optimizer_name"];
  s["final_loss"] = final["loss"].get<double>();
  s["mean_step_time_ms"] = or_null(mean_of(defined_values(steps, "step_time_ms")));
  s["mean_step_time_ms_after_warmup"] = *mean_of(timing);
  s["median_step_time_ms_after_warmup"] = median_of(timing);
  s["timing_warmup_steps"] = timing_warmup_steps;
  s["mean_collision_score"] = or_null(mean_of(collision));
  s["max_collision_score"] = collision.empty()
                                 ? Json(nullptr)
                                 : Json(*std::max_element(collision.begin(), collision.end()));
  s["mean_zero_grad_ratio"] = or_null(mean_of(defined_values(steps, "zero_grad_ratio")));
  s["mean_active_effective_lr"] =
      or_null(mean_of(defined_values(steps, "active_mean_effective_lr")));
  for (const char* key : {"optimizer_state_bytes", "psi_state_bytes", "psi_memory_ratio_vs_fp32",
                          "psi_storage", "zero_grad_policy", "kappa_gate_mode", "lr", "seed"})
    s[key] = final[key];
  s["timestamp_utc"] = timestamp_utc();
  return s;
}

std::string format_optimizer_step(const Json& r) {
  return "[optimizer] optimizer_name=" + py_str(r["optimizer_name"]) +
         " step=" + py_str(r["step"]) + " loss=" + py_fixed6(r["loss"].get<double>()) +
         " mean_kappa=" + py_str(r["mean_kappa"]) +
         " mean_noise_ratio=" + py_str(r["mean_noise_ratio"]) +
         " collision_score=" + py_str(r["collision_score"]);
}

std::string optimizer_summary_header() {
  return "[optimizer_summary] optimizer_name final_loss mean_step_time_ms "
         "mean_step_time_ms_after_warmup median_step_time_ms_after_warmup mean_collision_score "
         "mean_zero_grad_ratio mean_active_effective_lr optimizer_state_bytes psi_state_bytes";
}

std::string format_optimizer_summary(const Json& s) {
  std::string line = "[optimizer_summary] " + py_str(s["optimizer_name"]) + " " +
                     py_fixed6(s["final_loss"].get<double>());
  for (const char* key :
       {"mean_step_time_ms", "mean_step_time_ms_after_warmup", "median_step_time_ms_after_warmup",
        "mean_collision_score", "mean_zero_grad_ratio", "mean_active_effective_lr",
        "optimizer_state_bytes", "psi_state_bytes"})
    line.append(" ").append(py_str(s[key]));
  return line;
}

std::string stress_suite_header() {
  return "[optimizer_stress_suite] problem optimizer_name final_loss mean_step_time_ms "
         "mean_step_time_ms_after_warmup median_step_time_ms_after_warmup mean_collision_score "
         "mean_zero_grad_ratio optimizer_state_bytes psi_state_bytes";
}

std::string format_stress_suite_summary(const Json& s) {
  std::string line = "[optimizer_stress_suite] " + py_str(s["problem"]) + " " +
                     py_str(s["optimizer_name"]) + " " + py_fixed6(s["final_loss"].get<double>());
  for (const char* key :
       {"mean_step_time_ms", "mean_step_time_ms_after_warmup", "median_step_time_ms_after_warmup",
        "mean_collision_score", "mean_zero_grad_ratio", "optimizer_state_bytes", "psi_state_bytes"})
    line.append(" ").append(py_str(s[key]));
  return line;
}

}  // namespace chimera
