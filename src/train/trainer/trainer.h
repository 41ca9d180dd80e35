// The ResNet-20 training loop of SPEC §5: per batch a training step and, in chimera mode with
// batch frequency, a controller step; per epoch an optional controller step, then evaluation.
// What happens is reported to an observer (the harness turns it into records and progress);
// the state needed to continue a run bit-identically goes into and comes out of a Checkpoint.
#pragma once

#include <memory>
#include <optional>

#include "model/models/resnet20.h"
#include "model/quant/controller.h"
#include "train/data/batch_iterator.h"
#include "train/optim/make_optimizer.h"
#include "train/parallel/communicator.h"
#include "train/trainer/alpha_control.h"
#include "train/trainer/checkpoint.h"
#include "train/trainer/evaluate.h"
#include "train/trainer/lr_schedule.h"

namespace chimera {

enum class ControllerFrequency { epoch, batch };
ControllerFrequency parse_controller_frequency(const std::string& s);
const char* controller_frequency_name(ControllerFrequency f);

struct TrainSettings {
  ResNet20Options model;
  OptimizerChoice optimizer;  // optimizer.lr is the base learning rate of the schedule
  LrSchedule schedule = LrSchedule::constant;
  int64_t epochs = 1;
  BatchOptions train_batches;  // batch size, shuffle, augment, seed, max_batches
  int64_t eval_batch_size = 16;
  int64_t eval_max_batches = 0;
  ControllerSettings controller;
  ControllerFrequency controller_frequency = ControllerFrequency::epoch;
  ControllerAffects controller_affects = ControllerAffects::alpha_target;
  uint64_t seed = 7;
  // Data parallelism (train/parallel): this process's share of every global batch; null or one
  // rank trains alone. Not owned.
  Communicator* comm = nullptr;
  int64_t check_weights_every = 50;  // steps between the cross-rank weight comparisons
  bool sync_batchnorm = false;       // batch statistics over all ranks' shards (data_parallel.h)
};

struct BatchEvent {
  int64_t epoch, batch, batches, global_step, examples;
  double loss, accuracy, lr;
  ModelStats stats;                          // after the step (before the controller moves)
  std::optional<AlphaControlResult> control;  // set when the controller stepped
};

struct EpochEvent {
  int64_t epoch, global_step;
  double train_loss, train_accuracy, lr;
  ModelStats stats;                           // of the epoch's last training forward
  std::optional<AlphaControlResult> control;  // set when the controller stepped this epoch
  std::optional<EvalResult> eval;             // on the test split, when there is one
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void on_batch(const BatchEvent& event) {}
  virtual void on_epoch(const EpochEvent& event) {}
};

class Trainer {
 public:
  explicit Trainer(const TrainSettings& settings);

  // Trains from the epoch after the last completed one up to settings.epochs.
  void run(const CifarData& data, TrainObserver& observer);

  // Model state dict, optimizer state and where training stands, with `metadata` added.
  Checkpoint checkpoint(const nlohmann::json& metadata) const;
  // Continues from a checkpoint written by checkpoint(): the rest of the run is bit-identical
  // to an uninterrupted one with the same settings and thread count.
  void restore(const Checkpoint& checkpoint);

  ChimeraResNet20& model() { return *model_; }
  const TargetBitsController& controller() const { return controller_; }
  int64_t epochs_done() const { return epochs_done_; }
  int64_t global_step() const { return global_step_; }

 private:
  bool controls() const { return settings_.model.mode == ModelMode::chimera; }
  bool parallel() const { return settings_.comm && settings_.comm->size() > 1; }
  AlphaControlResult control_step(double zero_ratio);

  TrainSettings settings_;
  std::unique_ptr<ChimeraResNet20> model_;
  std::unique_ptr<Optimizer> optimizer_;
  TargetBitsController controller_;
  int64_t epochs_done_ = 0;
  int64_t global_step_ = 0;
};

}  // namespace chimera
