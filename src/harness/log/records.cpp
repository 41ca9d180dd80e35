#include "harness/log/records.h"

#include <cstdarg>
#include <cstdio>

namespace chimera {

Json benchmark_record(const RecordContext& ctx, const Config& config, const std::string& record_type,
                      int64_t step, double loss, const LayerStats& stats) {
  CHIMERA_CHECK(record_type == "step" || record_type == "batch" || record_type == "epoch" ||
                    record_type == "eval" || record_type == "final" || record_type == "summary",
                "invalid record_type '", record_type, "'");
  Json r;
  r["run_id"] = ctx.run_id;
  r["script"] = ctx.script;
  r["mode"] = ctx.mode;
  r["record_type"] = record_type;
  r["seed"] = ctx.seed;
  r["init_seed"] = ctx.init_seed;
  r["step"] = step;
  r["loss"] = loss;
  r["gamma"] = stats.gamma;
  r["alpha"] = stats.alpha;
  r["zero_ratio"] = stats.ternary.zero_ratio;
  r["plus_ratio"] = stats.ternary.plus_ratio;
  r["minus_ratio"] = stats.ternary.minus_ratio;
  r["effective_bits"] = stats.ternary.effective_bits;
  r["alpha_used"] = ctx.mode == "chimera";
  r["lr"] = ctx.lr;
  r["optimizer_name"] = ctx.optimizer_name;
  r["target_bits"] = ctx.target_bits ? Json(*ctx.target_bits) : Json(nullptr);
  r["stat_mode"] = stat_mode_name(config.layer.stat_mode);
  r["rho_s"] = config.layer.rho_s;
  r["rho_psi"] = config.optimizer.rho_psi;
  r["lambda_gate"] = config.optimizer.lambda_gate;
  r["kappa_min"] = config.optimizer.kappa_min;
  r["kappa_max"] = config.optimizer.kappa_max;
  r["timestamp_utc"] = timestamp_utc();
  return r;
}

static std::string fixed6(const Json& v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v.get<double>());
  return buf;
}

static std::string plain(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.is_null() ? "None" : v.dump();
}

std::string format_step_record(const std::string& prefix, const Json& r) {
  return "[" + prefix + "] record_type=" + plain(r["record_type"]) + " mode=" + plain(r["mode"]) +
         " seed=" + plain(r["seed"]) + " step=" + plain(r["step"]) + " loss=" + fixed6(r["loss"]) +
         " gamma=" + fixed6(r["gamma"]) + " alpha=" + fixed6(r["alpha"]) +
         " zero_ratio=" + fixed6(r["zero_ratio"]) + " plus_ratio=" + fixed6(r["plus_ratio"]) +
         " minus_ratio=" + fixed6(r["minus_ratio"]) +
         " effective_bits=" + fixed6(r["effective_bits"]) + " lr=" + fixed6(r["lr"]);
}

std::string format_final_record(const std::string& prefix, const Json& r) {
  return "[" + prefix + "] record_type=" + plain(r["record_type"]) + " mode=" + plain(r["mode"]) +
         " seed=" + plain(r["seed"]) + " final_loss=" + fixed6(r["loss"]) +
         " final_gamma=" + fixed6(r["gamma"]) + " final_alpha=" + fixed6(r["alpha"]) +
         " final_zero_ratio=" + fixed6(r["zero_ratio"]) +
         " final_plus_ratio=" + fixed6(r["plus_ratio"]) +
         " final_minus_ratio=" + fixed6(r["minus_ratio"]) +
         " final_effective_bits=" + fixed6(r["effective_bits"]) + " lr=" + fixed6(r["lr"]);
}

std::string format_summary_record(const std::string& prefix, const Json& r) {
  return "[" + prefix + "] record_type=" + plain(r["record_type"]) + " mode=" + plain(r["mode"]) +
         " mean_final_loss=" + fixed6(r["mean_final_loss"]) +
         " std_final_loss=" + fixed6(r["std_final_loss"]) +
         " mean_zero_ratio=" + fixed6(r["mean_zero_ratio"]) +
         " std_zero_ratio=" + fixed6(r["std_zero_ratio"]) +
         " mean_plus_ratio=" + fixed6(r["mean_plus_ratio"]) +
         " mean_minus_ratio=" + fixed6(r["mean_minus_ratio"]) +
         " mean_effective_bits=" + fixed6(r["mean_effective_bits"]) +
         " std_effective_bits=" + fixed6(r["std_effective_bits"]);
}

}  // namespace chimera
