#include "harness/experiments/optimizer_stress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "harness/experiments/optimizer_stress_records.h"
#include "harness/experiments/optimizer_variants.h"
#include "train/optim/chimera21.h"

namespace chimera {

namespace {

double resolved_lr(const OptimizerStressOptions& o) {
  return o.lr.value_or(o.config.optimizer.lr);
}

// Trains one variant from data.init and returns its records; each is logged as it is made.
VariantRun run_variant(const std::string& name, const OptimizerStressOptions& o,
                       StressProblem problem, const StressData& data, JsonlWriter& log,
                       std::ostream& out) {
  StressMlp model(o.shape, problem);
  model.load_state_dict(data.init);
  const double lr = resolved_lr(o);
  std::unique_ptr<Optimizer> optimizer =
      make_optimizer_variant(name, model.parameters(), lr, o.config);
  const StepContext ctx{name, stress_problem_name(problem), o.seed, lr};

  VariantRun run;
  run.optimizer_name = name;
  for (int64_t step = 1; step <= o.steps; ++step) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    optimizer->zero_grad();
    const Var loss = stress_loss(problem, model, data, step);
    backward(loss);
    optimizer->step();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    run.steps.push_back(
        optimizer_step_record(ctx, *optimizer, step, loss.value().item(), std::max(ms, 1e-9)));
    log.write(run.steps.back());
    if (step == 1 || step == o.steps) out << format_optimizer_step(run.steps.back()) << "\n";
  }
  run.summary = optimizer_summary_record(run.steps, o.timing_warmup_steps);
  log.write(run.summary);
  if (const auto* chimera = dynamic_cast<const Chimera21*>(optimizer.get()))
    run.final_diagnostics = chimera->last_diagnostics();
  return run;
}

// One problem's comparison into an open log (the reference's compare_optimizers.run after its
// checks).
std::vector<VariantRun> compare_into(const OptimizerStressOptions& o, StressProblem problem,
                                     const StressData& data, JsonlWriter& log, std::ostream& out) {
  std::vector<VariantRun> runs;
  for (const char* name : kOptimizerVariants)
    runs.push_back(run_variant(name, o, problem, data, log, out));
  out << optimizer_summary_header() << "\n";
  for (const VariantRun& run : runs) out << format_optimizer_summary(run.summary) << "\n";
  out << "[optimizer] status=passed\n";
  return runs;
}

// Fails for an unwritable log before --init-from is read or --save-init written. Opening for
// append creates the file (and its folders) without emptying an existing one.
void check_log_writable(const std::string& path) {
  if (!path.empty()) JsonlWriter(path, true);
}

StressData stress_data(const OptimizerStressOptions& o, StressProblem problem) {
  if (!o.init_from.empty()) return load_stress_data(o.init_from, o.shape, o.steps);
  return make_stress_data(problem, o.shape, o.seed, o.steps, o.noise_scale, o.sparsity);
}

std::string save_params(const OptimizerStressOptions& o, StressProblem problem) {
  Json p;
  p["problem"] = stress_problem_name(problem);
  p["activation"] = problem == StressProblem::sparse_relu ? "relu" : "tanh";
  p["seed"] = o.seed;
  p["steps"] = o.steps;
  p["batch_size"] = o.shape.batch_size;
  p["in_features"] = o.shape.in_features;
  p["hidden_features"] = o.shape.hidden_features;
  p["noise_scale"] = o.noise_scale;
  p["sparsity"] = o.sparsity;
  p["model"] =
      "Linear(in,hidden) -> act -> Linear(hidden,1); init.* uses keys 0.weight, "
      "0.bias, 2.weight, 2.bias";
  p["loss"] = "noise.<param>[step-1] is the noise tensor used at that step";
  return p.dump();
}

}  // namespace

OptimizerStressOptions stress_suite_defaults() {
  OptimizerStressOptions o;
  o.steps = 10;
  o.noise_scale = 2.0;
  o.sparsity = 0.7;
  o.log_jsonl = "outputs/optimizer_stress_suite.jsonl";
  return o;
}

void validate_stress_options(const OptimizerStressOptions& o) {
  CHIMERA_CHECK(o.steps > 0, "--steps must be positive, got ", o.steps);
  CHIMERA_CHECK(o.shape.batch_size > 0, "--batch-size must be positive, got ", o.shape.batch_size);
  CHIMERA_CHECK(o.shape.in_features > 0, "--in-features must be positive, got ",
                o.shape.in_features);
  CHIMERA_CHECK(o.shape.hidden_features > 0, "--hidden-features must be positive, got ",
                o.shape.hidden_features);
  const double lr = resolved_lr(o);
  CHIMERA_CHECK(lr >= 0 && std::isfinite(lr), "--lr must be a non-negative number, got ", lr);
  CHIMERA_CHECK(std::isfinite(o.noise_scale), "--noise-scale must be a finite number, got ",
                o.noise_scale);
  CHIMERA_CHECK(o.sparsity >= 0 && o.sparsity <= 1, "--sparsity must be in [0, 1], got ",
                o.sparsity);
  CHIMERA_CHECK(o.timing_warmup_steps >= 0, "--timing-warmup-steps must be >= 0, got ",
                o.timing_warmup_steps);
  parse_stress_problem(o.problem);
}

std::vector<VariantRun> run_compare_optimizers(const OptimizerStressOptions& o, std::ostream& out) {
  validate_stress_options(o);
  const StressProblem problem = parse_stress_problem(o.problem);
  check_log_writable(o.log_jsonl);
  const StressData data = stress_data(o, problem);
  if (!o.save_init.empty()) save_stress_data(o.save_init, data, save_params(o, problem));
  JsonlWriter log = o.log_jsonl.empty() ? JsonlWriter() : JsonlWriter(o.log_jsonl, o.append_log);
  return compare_into(o, problem, data, log, out);
}

std::vector<ProblemRuns> run_stress_suite(const OptimizerStressOptions& o, std::ostream& out) {
  CHIMERA_CHECK(o.init_from.empty() && o.save_init.empty(),
                "the stress suite draws its own data: --init-from and --save-init belong to "
                "compare-optimizers");
  validate_stress_options(o);
  JsonlWriter log = o.log_jsonl.empty() ? JsonlWriter() : JsonlWriter(o.log_jsonl, false);
  std::vector<ProblemRuns> results;
  for (StressProblem problem : kStressProblems) {
    const StressData data = stress_data(o, problem);
    results.push_back({problem, compare_into(o, problem, data, log, out)});
  }
  out << stress_suite_header() << "\n";
  for (const ProblemRuns& p : results)
    for (const VariantRun& run : p.runs) out << format_stress_suite_summary(run.summary) << "\n";
  out << "[optimizer_stress_suite] status=passed\n";
  return results;
}

}  // namespace chimera
