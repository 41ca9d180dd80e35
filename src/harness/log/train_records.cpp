#include "harness/log/train_records.h"

#include "harness/log/summary_record.h"

namespace chimera {

static LayerStats as_layer_stats(const ModelStats& s) {
  LayerStats l;
  l.gamma = s.gamma;
  l.alpha = s.alpha_used_mean;
  l.ternary = TernaryStats{s.global_zero_ratio, s.global_plus_ratio, s.global_minus_ratio,
                           s.global_effective_bits};
  return l;
}

void add_ternary_fields(Json& r, const ModelStats& s) {
  r["mean_zero_ratio"] = s.global_zero_ratio;
  r["mean_plus_ratio"] = s.global_plus_ratio;
  r["mean_minus_ratio"] = s.global_minus_ratio;
  r["mean_effective_bits"] = s.global_effective_bits;
  r["unweighted_mean_effective_bits"] = s.unweighted_mean_effective_bits;
  r["unweighted_mean_zero_ratio"] = s.unweighted_mean_zero_ratio;
  r["unweighted_mean_plus_ratio"] = s.unweighted_mean_plus_ratio;
  r["unweighted_mean_minus_ratio"] = s.unweighted_mean_minus_ratio;
  r["global_zero_ratio"] = s.global_zero_ratio;
  r["global_plus_ratio"] = s.global_plus_ratio;
  r["global_minus_ratio"] = s.global_minus_ratio;
  r["global_effective_bits"] = s.global_effective_bits;
  r["gamma"] = s.gamma;
  r["alpha_used_mean"] = s.alpha_used_mean;
  r["alpha_target_mean"] = s.alpha_target_mean;
  // Ternary codes changed by the last optimizer step: all layers, and each in model order.
  r["flip_rate"] = s.global_flip_rate ? Json(*s.global_flip_rate) : Json();
  Json layers = Json::array();
  for (const auto& f : s.layer_flip_rates) layers.push_back(f ? Json(*f) : Json());
  r["layer_flip_rates"] = layers;
}

// The fields epoch, eval and batch records add to the benchmark record.
static void add_training_fields(Json& r, const TrainRecordContext& ctx, const ModelStats& s,
                                const ControlView& c) {
  add_ternary_fields(r, s);
  r["target_branch"] = ctx.target_branch;
  r["target_zero_ratio"] = ctx.target_zero_ratio;
  r["controller_frequency"] = ctx.controller_frequency;
  r["controller_affects"] = ctx.controller_affects;
  r["controller_error"] = c.error;
  r["controller_update_delta"] = c.delta;
  r["alpha_used_mean"] = s.alpha_used_mean;
  r["alpha_target_mean"] = c.alpha_target_mean;
  r["alpha_control_mean"] = s.alpha_used_mean;
  r["alpha_next_mean"] = c.alpha_next_mean;
  r["test_loss"] = nullptr;
  r["test_accuracy"] = nullptr;
  r["split"] = "train";
}

static RecordContext with_lr(const RecordContext& base, double lr) {
  RecordContext c = base;
  c.lr = lr;
  return c;
}

Json batch_record(const TrainRecordContext& ctx, const BatchEvent& e, const ControlView& c) {
  Json r = benchmark_record(with_lr(ctx.base, e.lr), ctx.config, "batch", e.global_step, e.loss,
                            as_layer_stats(e.stats));
  r["epoch"] = e.epoch;
  r["batch_idx"] = e.batch;
  r["train_loss"] = e.loss;
  r["train_accuracy"] = e.accuracy;
  add_training_fields(r, ctx, e.stats, c);
  return r;
}

Json epoch_record(const TrainRecordContext& ctx, const EpochEvent& e, const ControlView& c) {
  Json r = benchmark_record(with_lr(ctx.base, e.lr), ctx.config, "epoch", e.global_step,
                            e.train_loss, as_layer_stats(e.stats));
  r["epoch"] = e.epoch;
  r["train_loss"] = e.train_loss;
  r["train_accuracy"] = e.train_accuracy;
  add_training_fields(r, ctx, e.stats, c);
  if (e.eval) {
    r["test_loss"] = e.eval->loss;
    r["test_accuracy"] = e.eval->accuracy;
  }
  return r;
}

Json eval_record(const TrainRecordContext& ctx, const EpochEvent& e, double alpha_next_mean) {
  const EvalResult& ev = *e.eval;
  const ControlView c{ev.stats.global_zero_ratio - ctx.target_zero_ratio, 0.0,
                      ev.stats.alpha_target_mean, alpha_next_mean};
  Json r = benchmark_record(with_lr(ctx.base, e.lr), ctx.config, "eval", e.global_step, ev.loss,
                            as_layer_stats(ev.stats));
  r["epoch"] = e.epoch;
  add_training_fields(r, ctx, ev.stats, c);
  r["split"] = "test";
  r["train_loss"] = nullptr;
  r["train_accuracy"] = nullptr;
  r["test_loss"] = ev.loss;
  r["test_accuracy"] = ev.accuracy;
  return r;
}

Json final_record(const Json& last_epoch_record) {
  Json r = last_epoch_record;
  r["record_type"] = "final";
  r["split"] = "summary";
  r["timestamp_utc"] = timestamp_utc();
  return r;
}

Json train_summary_record(const TrainRecordContext& ctx, const Json& f) {
  RecordContext base = ctx.base;
  base.run_id = "train_resnet_cifar-summary-mode-" + base.mode + "-seed-" +
                std::to_string(base.seed);
  const auto one = [](double v) { return SeedSpread{v, 0.0}; };
  const SummaryValues values{one(f["train_loss"]), one(f["mean_zero_ratio"]),
                             one(f["mean_plus_ratio"]), one(f["mean_minus_ratio"]),
                             one(f["mean_effective_bits"])};
  Json r = summary_record(base, ctx.config, values);
  for (const char* key :
       {"train_loss", "train_accuracy", "target_bits", "target_branch", "target_zero_ratio",
        "alpha_used_mean", "alpha_target_mean", "alpha_control_mean", "alpha_next_mean",
        "controller_frequency", "controller_affects", "controller_error",
        "controller_update_delta", "global_zero_ratio", "global_effective_bits", "test_loss",
        "test_accuracy"})
    r[key] = f[key];
  r["split"] = "summary";
  return r;
}

std::string console_line(const Json& r) {
  const std::string type = r["record_type"];
  const std::string prefix = "resnet_cifar_" + type;
  if (type == "summary") return format_summary_record(prefix, r);
  if (type == "final") return format_final_record(prefix, r);
  return format_step_record(prefix, r);
}

}  // namespace chimera
