#include "train/trainer/trainer.h"

#include "train/parallel/data_parallel.h"
#include "train/trainer/train_step.h"

namespace chimera {

ControllerFrequency parse_controller_frequency(const std::string& s) {
  if (s == "epoch") return ControllerFrequency::epoch;
  if (s == "batch") return ControllerFrequency::batch;
  CHIMERA_FAIL("controller frequency must be 'epoch' or 'batch', got '", s, "'");
}

const char* controller_frequency_name(ControllerFrequency f) {
  return f == ControllerFrequency::epoch ? "epoch" : "batch";
}

static std::unique_ptr<ChimeraResNet20> build_model(const TrainSettings& s) {
  Rng rng(s.seed);
  return std::make_unique<ChimeraResNet20>(s.model, rng);
}

Trainer::Trainer(const TrainSettings& settings)
    : settings_(settings),
      model_(build_model(settings)),
      optimizer_(make_optimizer(settings.optimizer, model_->parameters())),
      controller_(settings.controller) {
  CHIMERA_CHECK(settings.epochs > 0, "--epochs must be positive, got ", settings.epochs);
  CHIMERA_CHECK(settings.eval_batch_size > 0, "--eval-batch-size must be positive, got ",
                settings.eval_batch_size);
  // The controlled override starts where warm-up would end, as in the reference.
  if (controls() && settings.controller_affects == ControllerAffects::alpha_override)
    model_->set_alpha_override(settings.model.layer.alpha_target);
}

AlphaControlResult Trainer::control_step(double zero_ratio) {
  return apply_alpha_control(model_->quantized_layers(), controller_, zero_ratio,
                             settings_.controller_affects);
}

void Trainer::run(const CifarData& data, TrainObserver& observer) {
  CHIMERA_CHECK(data.train.size() > 0, "the training set is empty");
  for (int64_t epoch = epochs_done_ + 1; epoch <= settings_.epochs; ++epoch) {
    const double lr =
        lr_at_epoch(settings_.schedule, settings_.optimizer.lr, epoch - 1, settings_.epochs);
    optimizer_->set_lr(lr);
    BatchIterator batches(data.train, settings_.train_batches, epoch);
    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0, index = 0;
    EpochEvent epoch_event{epoch, 0, 0, 0, lr, model_->stats(), std::nullopt, std::nullopt};
    while (auto batch = batches.next()) {
      const int64_t n = batch->labels.numel();
      TrainStepResult r;
      if (parallel()) {
        // Every rank draws the same global batch and trains on its rows of it.
        Communicator& comm = *settings_.comm;
        const Shard shard = shard_of(n, comm.rank(), comm.size());
        CHIMERA_CHECK(shard.size() > 0, "data-parallel training: a batch of ", n, " examples for ",
                      comm.size(), " ranks leaves rank ", comm.rank(),
                      " none; use a batch size of at least the number of ranks");
        const std::vector<Var> params = model_->parameters();
        if (settings_.sync_batchnorm) sync_batch_norm(*model_, comm, shard.size(), n);
        r = train_step(*model_, *optimizer_, rows_of(batch->images, shard),
                       rows_of(batch->labels, shard),
                       [&] { combine_gradients(params, comm, shard.size(), n); });
        broadcast_buffers(*model_, comm);
        double sums[2] = {r.loss * static_cast<double>(shard.size()), static_cast<double>(r.correct)};
        comm.sum_in_rank_order(sums, 2);
        r.loss = sums[0] / static_cast<double>(n);
        r.correct = static_cast<int64_t>(sums[1]);
        if ((global_step_ + 1) % settings_.check_weights_every == 0)
          check_same_weights(params, comm, global_step_ + 1);
      } else {
        r = train_step(*model_, *optimizer_, batch->images, batch->labels);
      }
      ++global_step_;
      loss_sum += r.loss * static_cast<double>(n);
      correct += r.correct;
      seen += n;
      BatchEvent event{epoch,
                       ++index,
                       batches.num_batches(),
                       global_step_,
                       n,
                       r.loss,
                       static_cast<double>(r.correct) / static_cast<double>(n),
                       lr,
                       r.stats,
                       std::nullopt};
      if (controls() && settings_.controller_frequency == ControllerFrequency::batch)
        event.control = control_step(r.stats.global_zero_ratio);
      epoch_event.stats = r.stats;
      observer.on_batch(event);
    }
    if (parallel()) check_same_weights(model_->parameters(), *settings_.comm, global_step_);
    epoch_event.global_step = global_step_;
    epoch_event.train_loss = loss_sum / static_cast<double>(std::max<int64_t>(seen, 1));
    epoch_event.train_accuracy =
        static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(seen, 1));
    if (controls() && settings_.controller_frequency == ControllerFrequency::epoch)
      epoch_event.control = control_step(epoch_event.stats.global_zero_ratio);
    if (data.test.size() > 0)
      epoch_event.eval =
          evaluate(*model_, data.test, settings_.eval_batch_size, settings_.eval_max_batches);
    epochs_done_ = epoch;
    observer.on_epoch(epoch_event);
  }
}

Checkpoint Trainer::checkpoint(const nlohmann::json& metadata) const {
  return training_checkpoint(*model_, model_->quantized_layers(), *optimizer_, metadata,
                             "trainer_state",
                             {{"epochs_done", epochs_done_}, {"global_step", global_step_}});
}

void Trainer::restore(const Checkpoint& c) {
  const nlohmann::json& s =
      restore_training_state(c, *model_, model_->quantized_layers(), *optimizer_,
                             "trainer_state", "training state", "chimera train-resnet");
  epochs_done_ = s.at("epochs_done").get<int64_t>();
  global_step_ = s.at("global_step").get<int64_t>();
}

}  // namespace chimera
