#include "harness/experiments/train_lm.h"

#include <filesystem>
#include <sstream>

#include "engine/io/atomic_file.h"

#include "harness/log/progress.h"
#include "harness/log/train_records.h"

namespace chimera {

namespace {

template <class F>
auto flag(const char* name, F parse) {
  try {
    return parse();
  } catch (const Error& e) {
    CHIMERA_FAIL(name, ": ", e.what());
  }
}

Json arguments_json(const TrainLmArgs& a) {
  auto opt = [](const auto& v) { return v ? Json(*v) : Json(); };
  return {{"config", a.config_source}, {"mode", opt(a.mode)}, {"optimizer", opt(a.optimizer)},
          {"lr", opt(a.lr)}, {"steps", opt(a.steps)}, {"batch_size", opt(a.batch_size)},
          {"target_bits", opt(a.target_bits)}, {"seed", a.seed}, {"corpus", a.corpus},
          {"log_jsonl", a.log_jsonl}, {"out_dir", a.out_dir},
          {"checkpoint_dir", a.checkpoint_dir}, {"run_name", lm_run_name(a)},
          {"checkpoint_every", a.checkpoint_every}, {"stop_after", a.stop_after},
          {"resume", a.resume}};
}

// Step, eval and final records: the run's identity, what the step did, the ternary statistics
// and the controller's fields of the ResNet trainer.
class LmRecorder : public LmObserver {
 public:
  LmRecorder(Json identity, JsonlWriter& log, std::ostream& out, Progress* progress,
             double target_zero_ratio, int64_t checkpoint_every,
             std::function<void(int64_t)> checkpoint)
      : identity_(std::move(identity)), log_(log), out_(out), progress_(progress),
        target_zero_ratio_(target_zero_ratio), checkpoint_every_(checkpoint_every),
        checkpoint_(std::move(checkpoint)) {}

  void on_step(const LmStepEvent& e) override {
    train_seconds_ += e.seconds;
    train_tokens_ += e.tokens;
    Json r = identity_;
    r["record_type"] = "step";
    r["step"] = e.step;
    r["loss"] = e.loss;
    r["lr"] = e.lr;
    r["grad_norm"] = e.grad_norm;
    r["tokens"] = e.tokens;
    r["tokens_per_s"] = e.seconds > 0 ? Json(e.tokens / e.seconds) : Json();
    add_ternary_fields(r, e.stats);
    r["controller_error"] = e.stats.global_zero_ratio - target_zero_ratio_;
    r["controller_update_delta"] = e.control ? e.control->delta : 0.0;
    r["alpha_next_mean"] = e.control ? e.control->alpha_next_mean : e.stats.alpha_target_mean;
    log_.write(r);
    last_step_ = r;
    if (e.step == 1) out_ << line(r) << std::endl;
    if (progress_) {
      if (e.step == first_step_ || first_step_ < 0) {
        first_step_ = e.step;
        progress_->start_epoch(1);
      }
      loss_sum_ += e.loss;
      ++steps_seen_;
      progress_->update(e.step, loss_sum_ / static_cast<double>(steps_seen_), 0.0, e.tokens);
    }
    if (checkpoint_every_ > 0 && e.step % checkpoint_every_ == 0) checkpoint_(e.step);
  }

  void on_eval(const LmEvalEvent& e) override {
    Json r = identity_;
    r["record_type"] = "eval";
    r["step"] = e.step;
    r["val_loss"] = e.loss;
    r["val_bits_per_byte"] = e.bits_per_byte;
    r["tokens"] = e.tokens;
    r["tokens_per_s"] = e.seconds > 0 ? Json(e.tokens / e.seconds) : Json();
    log_.write(r);
    last_eval_ = r;
    if (progress_) progress_->end_epoch();
    out_ << line(r) << std::endl;
    if (progress_ && steps_seen_ > 0) progress_->start_epoch(1);
  }

  Json final_record() const {
    Json r = last_step_;
    r["record_type"] = "final";
    for (const char* k : {"val_loss", "val_bits_per_byte"}) r[k] = last_eval_.value(k, Json());
    r["train_tokens_per_s"] =
        train_seconds_ > 0 ? Json(static_cast<double>(train_tokens_) / train_seconds_) : Json();
    return r;
  }

  static std::string line(const Json& r) {
    std::string s = "[train_lm_" + r["record_type"].get<std::string>() + "]";
    for (const char* k : {"mode", "step", "loss", "val_loss", "val_bits_per_byte", "lr",
                          "global_effective_bits", "global_zero_ratio", "train_tokens_per_s"})
      if (r.contains(k) && !r[k].is_null()) s += std::string(" ") + k + "=" + r[k].dump();
    return s;
  }

 private:
  Json identity_;
  JsonlWriter& log_;
  std::ostream& out_;
  Progress* progress_;
  double target_zero_ratio_;
  int64_t checkpoint_every_;
  std::function<void(int64_t)> checkpoint_;
  Json last_step_, last_eval_;
  double train_seconds_ = 0, loss_sum_ = 0;
  int64_t train_tokens_ = 0, steps_seen_ = 0, first_step_ = -1;
};

}  // namespace

std::string lm_run_name(const TrainLmArgs& a) {
  if (!a.run_name.empty()) return a.run_name;
  const std::string mode = a.mode.value_or(model_mode_name(a.config.lm.model.mode));
  return "train_lm_" + mode + "_seed" + std::to_string(a.seed);
}

LmTrainSettings lm_settings_from(const TrainLmArgs& a) {
  const LmConfig& c = a.config.lm;
  LmTrainSettings s;
  s.model = c.model;
  if (a.mode) s.model.mode = flag("--mode", [&] { return parse_model_mode(*a.mode); });
  s.model.layer = a.config.layer;
  s.model.vocab_size = kByteVocab;
  s.optimizer.name = a.optimizer.value_or(c.optimizer);
  CHIMERA_CHECK(s.optimizer.name == "adamw" || s.optimizer.name == "chimera21",
                "--optimizer must be adamw or chimera21, got '", s.optimizer.name, "'");
  s.optimizer.lr = a.lr.value_or(c.lr);
  CHIMERA_CHECK(s.optimizer.lr >= 0, "--lr must be >= 0, got ", s.optimizer.lr);
  s.optimizer.weight_decay = c.weight_decay;
  s.optimizer.chimera21 = a.config.optimizer;
  s.steps = a.steps.value_or(c.steps);
  CHIMERA_CHECK(s.steps > 0, "--steps must be positive, got ", s.steps);
  s.batch_size = a.batch_size.value_or(c.batch_size);
  CHIMERA_CHECK(s.batch_size > 0, "--batch-size must be positive, got ", s.batch_size);
  s.warmup_lr_steps = c.warmup_lr_steps;
  s.min_lr_ratio = c.min_lr_ratio;
  s.grad_clip = c.grad_clip;
  s.eval_every = c.eval_every;
  s.eval_windows = c.eval_windows;
  s.eval_batch = c.eval_batch;
  s.control_every = c.control_every;
  CHIMERA_CHECK(a.seed >= 0, "--seed must be >= 0, got ", a.seed);
  s.seed = static_cast<uint64_t>(a.seed);
  s.controller.target_bits = a.target_bits.value_or(a.config.target_bits);
  s.controller.branch = a.config.target_branch;
  s.controller.tolerance = a.config.controller.tolerance;
  s.controller.step_size = a.config.controller.step_size;
  s.controller.alpha_min = a.config.layer.alpha_min;
  s.controller.alpha_max = a.config.controller.alpha_max;
  flag("--target-bits", [&] { return TargetBitsController(s.controller); });
  CHIMERA_CHECK(a.checkpoint_every >= 0, "--checkpoint-every must be >= 0, got ",
                a.checkpoint_every);
  CHIMERA_CHECK(a.stop_after >= 0, "--stop-after must be >= 0, got ", a.stop_after);
  flag(("config '" + a.config_source + "'").c_str(), [&] {
    s.validate();
    return 0;
  });
  return s;
}

TrainLmResult train_lm(const TrainLmArgs& args, std::ostream& console) {
  LmTrainSettings settings = lm_settings_from(args);
  settings.comm = args.comm;
  // With several ranks, rank 0 alone speaks and writes; the others train silently.
  const bool lead = !args.comm || args.comm->rank() == 0;
  std::ostringstream silent;
  std::ostream& out = lead ? console : silent;
  CHIMERA_CHECK(args.resume.empty() || std::filesystem::is_regular_file(args.resume),
                "--resume: no checkpoint at '", args.resume, "'");
  LmTrainer trainer(settings);
  if (!args.resume.empty()) {
    const Checkpoint c = load_checkpoint(args.resume);
    CHIMERA_CHECK(c.metadata.value("model_type", "") == kLmModelType, "--resume: '", args.resume,
                  "' is not a language-model checkpoint (model_type '",
                  c.metadata.value("model_type", "resnet20"), "')");
    trainer.restore(c);
  }
  CHIMERA_CHECK(trainer.steps_done() < settings.steps, "--resume: the checkpoint has already ",
                trainer.steps_done(), " of ", settings.steps,
                " steps; raise --steps to train further");
  const TextCorpus corpus = load_fortunes(args.corpus);
  const std::vector<int64_t> train_tokens = byte_tokens(corpus.train);
  const std::vector<TokenBatch> validation =
      validation_windows(byte_tokens(corpus.validation), settings.model.context,
                         settings.eval_batch, settings.eval_windows);

  TrainLmResult result;
  const std::string run = lm_run_name(args);
  if (lead) require_writable_folder(args.out_dir, "--out-dir");
  result.log_path = args.log_jsonl.empty()
                        ? (std::filesystem::path(args.out_dir) / (run + ".jsonl")).string()
                        : args.log_jsonl;
  JsonlWriter log = lead ? JsonlWriter(result.log_path, !args.resume.empty()) : JsonlWriter();
  const std::string mode = model_mode_name(settings.model.mode);
  const Json identity = {{"run_id", run},
                         {"script", "train_lm"},
                         {"mode", mode},
                         {"seed", args.seed},
                         {"optimizer_name", settings.optimizer.name},
                         {"target_bits", settings.controller.target_bits}};
  const Json meta_base = {{"model_type", kLmModelType},
                          {"transformer", transformer_options_json(settings.model)},
                          {"tokenizer", "bytes"},
                          {"corpus", {{"source", corpus.source},
                                      {"train_bytes", corpus.train.size()},
                                      {"validation_bytes", corpus.validation.size()}}},
                          {"config", config_to_json(args.config)},
                          {"arguments", arguments_json(args)}};
  if (lead) require_writable_folder(args.checkpoint_dir, "--checkpoint-dir");
  auto save = [&](const Json& metrics) {
    result.checkpoint_path =
        (std::filesystem::path(args.checkpoint_dir) / (run + ".safetensors")).string();
    if (!lead) return;
    Json meta = meta_base;
    meta["metrics"] = metrics;
    save_checkpoint(result.checkpoint_path, trainer.checkpoint(meta));
  };
  std::unique_ptr<Progress> progress;
  if (args.progress && lead) progress = std::make_unique<Progress>(stderr, 1, settings.steps);
  LmRecorder recorder(identity, log, out, progress.get(), trainer.controller().target_zero_ratio(),
                      args.checkpoint_every, [&](int64_t step) { save({{"step", step}}); });
  trainer.run(train_tokens, validation, recorder, args.stop_after);
  if (progress) progress->end_epoch();
  result.final_record = recorder.final_record();
  log.write(result.final_record);
  out << LmRecorder::line(result.final_record) << std::endl;
  save(result.final_record);
  out << "[train_lm] checkpoint=" << result.checkpoint_path << " log=" << result.log_path
      << std::endl;
  return result;
}

}  // namespace chimera
