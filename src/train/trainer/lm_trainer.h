// The language-model training loop, a sibling of the ResNet trainer: per step a batch of token
// windows, forward, mean cross entropy, backward, gradient clipping, optimizer step; every
// `control_every` steps in chimera mode a target-bits controller step; every `eval_every` steps
// and at the end the validation loss. Events go to an observer (the harness turns them into
// records); the state to continue bit-identically goes into and comes out of a Checkpoint.
#pragma once

#include "train/parallel/communicator.h"

#include <memory>
#include <optional>
#include <vector>

#include "model/models/transformer_lm.h"
#include "model/quant/controller.h"
#include "train/data/text_corpus.h"
#include "train/optim/make_optimizer.h"
#include "train/trainer/alpha_control.h"
#include "train/trainer/checkpoint.h"

namespace chimera {

struct LmTrainSettings {
  TransformerOptions model;
  OptimizerChoice optimizer;  // lr is the peak of the schedule
  int64_t steps = 1000;
  int64_t batch_size = 16;        // windows of model.context tokens per step
  int64_t warmup_lr_steps = 100;  // linear warm-up, then cosine
  double min_lr_ratio = 0.1;      // the cosine's floor, as a share of lr
  double grad_clip = 1.0;         // global L2 norm; 0 = no clipping
  int64_t eval_every = 200;       // steps; the last step always evaluates
  int64_t eval_windows = 64;      // validation windows of model.context tokens (0 = all)
  int64_t eval_batch = 16;        // windows per validation forward
  ControllerSettings controller;
  int64_t control_every = 10;  // steps between controller steps (chimera mode)
  ControllerAffects controller_affects = ControllerAffects::alpha_target;
  uint64_t seed = 7;  // model initialisation and batches
  // Data parallelism (train/parallel): this process trains its rows of every global batch;
  // null or one rank trains alone. Not owned.
  Communicator* comm = nullptr;
  int64_t check_weights_every = 50;  // steps between the cross-rank weight comparisons

  void validate() const;  // errors name the setting
};

struct LmStepEvent {
  int64_t step = 0;  // 1-based, steps done after this one
  double loss = 0, lr = 0, grad_norm = 0;
  int64_t tokens = 0;
  double seconds = 0;  // wall time of the step
  ModelStats stats;
  std::optional<AlphaControlResult> control;
};

struct LmEvalEvent {
  int64_t step = 0;
  double loss = 0;            // mean nats per predicted token
  double bits_per_byte = 0;   // loss / ln 2 (a byte per token)
  int64_t tokens = 0;
  double seconds = 0;
};

class LmObserver {
 public:
  virtual ~LmObserver() = default;
  virtual void on_step(const LmStepEvent& event) {}
  virtual void on_eval(const LmEvalEvent& event) {}
};

// Mean cross entropy (nats per token) over windows, in eval mode without a graph; the model's
// train/eval mode is restored.
LmEvalEvent evaluate_lm(TransformerLM& model, const std::vector<TokenBatch>& windows);

class LmTrainer {
 public:
  explicit LmTrainer(const LmTrainSettings& settings);

  // Trains from the step after the last one done up to settings.steps, or only up to step
  // `stop_after` (> 0) of that schedule: a run cut in pieces and resumed from checkpoints is the
  // uninterrupted run.
  void run(const std::vector<int64_t>& train_tokens, const std::vector<TokenBatch>& validation,
           LmObserver& observer, int64_t stop_after = 0);

  Checkpoint checkpoint(const nlohmann::json& metadata) const;
  // Continues from a checkpoint written by checkpoint(): the rest of the run is bit-identical
  // to an uninterrupted one with the same settings and thread count.
  void restore(const Checkpoint& checkpoint);

  TransformerLM& model() { return *model_; }
  const TargetBitsController& controller() const { return controller_; }
  int64_t steps_done() const { return steps_done_; }

 private:
  bool controls() const { return settings_.model.mode == ModelMode::chimera; }

  LmTrainSettings settings_;
  std::unique_ptr<TransformerLM> model_;
  std::vector<Var> params_;
  std::unique_ptr<Optimizer> optimizer_;
  TargetBitsController controller_;
  int64_t steps_done_ = 0;
};

}  // namespace chimera
