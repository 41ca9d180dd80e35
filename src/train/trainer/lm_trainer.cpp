#include "train/trainer/lm_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/ops/ops.h"
#include "train/optim/clip_grad.h"
#include "train/parallel/data_parallel.h"
#include "train/trainer/lr_schedule.h"

namespace chimera {

void LmTrainSettings::validate() const {
  model.validate();
  CHIMERA_CHECK(steps > 0, "steps must be positive, got ", steps);
  CHIMERA_CHECK(batch_size > 0, "batch_size must be positive, got ", batch_size);
  CHIMERA_CHECK(warmup_lr_steps >= 0, "warmup_lr_steps must be >= 0, got ", warmup_lr_steps);
  CHIMERA_CHECK(min_lr_ratio >= 0 && min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1], got ",
                min_lr_ratio);
  CHIMERA_CHECK(grad_clip >= 0, "grad_clip must be >= 0, got ", grad_clip);
  CHIMERA_CHECK(eval_every > 0, "eval_every must be positive, got ", eval_every);
  CHIMERA_CHECK(eval_windows >= 0, "eval_windows must be >= 0, got ", eval_windows);
  CHIMERA_CHECK(eval_batch > 0, "eval_batch must be positive, got ", eval_batch);
  CHIMERA_CHECK(control_every > 0, "control_every must be positive, got ", control_every);
  CHIMERA_CHECK(optimizer.name == "chimera21" || optimizer.name == "adamw",
                "optimizer must be chimera21 or adamw, got '", optimizer.name, "'");
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::unique_ptr<TransformerLM> build_model(const LmTrainSettings& s) {
  s.validate();
  Rng rng(s.seed);
  return std::make_unique<TransformerLM>(s.model, rng);
}

}  // namespace

LmEvalEvent evaluate_lm(TransformerLM& model, const std::vector<TokenBatch>& windows) {
  CHIMERA_CHECK(!windows.empty(), "no validation windows to evaluate");
  const auto t0 = std::chrono::steady_clock::now();
  const bool was_training = model.training();
  model.eval();
  NoGradGuard no_grad;
  double nats = 0;
  int64_t tokens = 0;
  for (const TokenBatch& b : windows) {
    const int64_t n = b.targets.numel();
    nats += cross_entropy(model.forward(b.ids), b.targets).value().item() * static_cast<double>(n);
    tokens += n;
  }
  model.train(was_training);
  LmEvalEvent e;
  e.loss = nats / static_cast<double>(tokens);
  e.bits_per_byte = e.loss / std::log(2.0);
  e.tokens = tokens;
  e.seconds = seconds_since(t0);
  return e;
}

LmTrainer::LmTrainer(const LmTrainSettings& settings)
    : settings_(settings),
      model_(build_model(settings)),
      params_(model_->parameters()),
      optimizer_(make_optimizer(settings.optimizer, params_)),
      controller_(settings.controller) {
  // The controlled override starts where warm-up would end, as in the ResNet trainer.
  if (controls() && settings.controller_affects == ControllerAffects::alpha_override)
    model_->set_alpha_override(settings.model.layer.alpha_target);
}

void LmTrainer::run(const std::vector<int64_t>& train_tokens,
                    const std::vector<TokenBatch>& validation, LmObserver& observer,
                    int64_t stop_after) {
  const LmTrainSettings& s = settings_;
  const int64_t last = stop_after > 0 ? std::min(stop_after, s.steps) : s.steps;
  model_->train();
  for (int64_t step = steps_done_; step < last; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    const double lr =
        lr_warmup_cosine(s.optimizer.lr, step, s.warmup_lr_steps, s.steps, s.min_lr_ratio);
    optimizer_->set_lr(lr);
    const TokenBatch batch = sample_batch(train_tokens, s.batch_size, s.model.context, s.seed, step);
    optimizer_->zero_grad();
    // Data parallel: every rank samples the same global batch and trains on its rows of it.
    const bool dp = s.comm && s.comm->size() > 1;
    const Shard shard = dp ? shard_of(s.batch_size, s.comm->rank(), s.comm->size())
                           : Shard{0, s.batch_size};
    CHIMERA_CHECK(shard.size() > 0, "data-parallel training: a batch of ", s.batch_size,
                  " windows leaves a rank none; use a batch size of at least the number of ranks");
    const int64_t context = batch.ids.size(1);  // targets are [batch * context], row-major
    const Var loss =
        dp ? cross_entropy(model_->forward(rows_of(batch.ids, shard)),
                           rows_of(batch.targets, {shard.begin * context, shard.end * context}))
           : cross_entropy(model_->forward(batch.ids), batch.targets);
    backward(loss);
    if (dp) combine_gradients(params_, *s.comm, shard.size(), s.batch_size);
    LmStepEvent e;
    e.grad_norm = clip_grad_norm(params_, s.grad_clip);
    optimizer_->step();
    double mean_loss = loss.value().item();
    if (dp) {
      double sum = mean_loss * static_cast<double>(shard.size()) / static_cast<double>(s.batch_size);
      s.comm->sum_in_rank_order(&sum, 1);
      mean_loss = sum;
      if ((step + 1) % s.check_weights_every == 0 || step + 1 == last)
        check_same_weights(params_, *s.comm, step + 1);
    }
    e.stats = model_->stats();
    if (controls() && (step + 1) % s.control_every == 0)
      e.control = apply_alpha_control(model_->quantized_layers(), controller_,
                                      e.stats.global_zero_ratio, s.controller_affects);
    steps_done_ = step + 1;
    e.step = steps_done_;
    e.loss = mean_loss;
    e.lr = lr;
    e.tokens = batch.targets.numel();
    e.seconds = seconds_since(t0);
    observer.on_step(e);
    if (steps_done_ % s.eval_every == 0 || steps_done_ == last) {
      LmEvalEvent ev = evaluate_lm(*model_, validation);
      ev.step = steps_done_;
      observer.on_eval(ev);
    }
  }
}

Checkpoint LmTrainer::checkpoint(const nlohmann::json& metadata) const {
  return training_checkpoint(*model_, model_->quantized_layers(), *optimizer_, metadata,
                             "lm_trainer_state", {{"steps_done", steps_done_}});
}

void LmTrainer::restore(const Checkpoint& c) {
  const nlohmann::json& s = restore_training_state(
      c, *model_, model_->quantized_layers(), *optimizer_, "lm_trainer_state",
      "language-model training state", "chimera train-lm");
  steps_done_ = s.at("steps_done").get<int64_t>();
}

}  // namespace chimera
