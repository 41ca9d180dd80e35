#include "harness/experiments/train_resnet.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "engine/io/atomic_file.h"

#include "harness/log/progress.h"
#include "harness/log/train_records.h"
#include "model/quant/target_bits.h"
#include "train/data/cifar_download.h"
#include "train/data/cifar_loader.h"
#include "train/data/fashion_mnist.h"
#include "train/data/smoke_data.h"

namespace chimera {

namespace {

std::string run_name_for(const TrainResnetArgs& a) {
  const char* data = dataset_kind(a) == DatasetKind::fashion_mnist ? "fashion_mnist" : "cifar";
  return a.run_name.empty()
             ? std::string("train_resnet_") + data + "_" + a.mode + "_seed" + std::to_string(a.seed)
             : a.run_name;
}

// Every flag is checked here, before any file is touched. Errors name the flag.
TrainSettings settings_from(const TrainResnetArgs& a) {
  CHIMERA_CHECK(a.device == "cpu",
                a.device.rfind("cuda", 0) == 0
                    ? "--device " + a.device + ": this build has no CUDA support; use --device cpu"
                    : "--device must be 'cpu', got '" + a.device + "'");
  CHIMERA_CHECK(a.epochs > 0, "--epochs must be positive, got ", a.epochs);
  CHIMERA_CHECK(a.batch_size > 0, "--batch-size must be positive, got ", a.batch_size);
  CHIMERA_CHECK(a.eval_batch_size > 0, "--eval-batch-size must be positive, got ",
                a.eval_batch_size);
  CHIMERA_CHECK(a.max_batches >= 0, "--max-batches must be >= 0, got ", a.max_batches);
  CHIMERA_CHECK(a.eval_max_batches >= 0, "--eval-max-batches must be >= 0, got ",
                a.eval_max_batches);
  CHIMERA_CHECK(a.checkpoint_every >= 0, "--checkpoint-every must be >= 0, got ",
                a.checkpoint_every);
  CHIMERA_CHECK(a.momentum >= 0, "--momentum must be >= 0, got ", a.momentum);
  CHIMERA_CHECK(a.seed >= 0, "--seed must be >= 0, got ", a.seed);
  auto flag = [](const char* name, auto parse) {
    try {
      return parse();
    } catch (const Error& e) {
      CHIMERA_FAIL(name, ": ", e.what());
    }
  };

  const DatasetKind data = flag("--dataset", [&] { return dataset_kind(a); });

  TrainSettings s;
  s.seed = static_cast<uint64_t>(a.seed);
  s.epochs = a.epochs;
  s.model.mode = flag("--mode", [&] { return parse_model_mode(a.mode); });
  s.model.in_channels = dataset_channels(data);
  s.model.first_last_fp32 = a.first_last_fp32;
  s.model.layer = a.config.layer;
  if (a.activation_grad)
    s.model.layer.activation_grad =
        flag("--activation-grad", [&] { return parse_activation_grad(*a.activation_grad); });

  s.optimizer.name = a.optimizer.empty() ? default_optimizer_for(a.mode) : a.optimizer;
  CHIMERA_CHECK(s.optimizer.name == "chimera21" || s.optimizer.name == "sgd" ||
                    s.optimizer.name == "adamw",
                "--optimizer must be chimera21, sgd or adamw, got '", s.optimizer.name, "'");
  s.optimizer.lr = a.lr.value_or(a.config.optimizer.lr);
  CHIMERA_CHECK(s.optimizer.lr >= 0, "--lr must be non-negative, got ", s.optimizer.lr);
  s.optimizer.weight_decay = a.weight_decay.value_or(a.config.optimizer.weight_decay);
  CHIMERA_CHECK(s.optimizer.weight_decay >= 0, "--weight-decay must be >= 0, got ",
                s.optimizer.weight_decay);
  s.optimizer.momentum = a.momentum;
  s.optimizer.chimera21 = a.config.optimizer;
  s.schedule = flag("--lr-schedule", [&] { return parse_lr_schedule(a.lr_schedule); });

  s.train_batches.batch_size = a.batch_size;
  // the reference's smoke data is not shuffled
  s.train_batches.shuffle = data != DatasetKind::synthetic;
  s.train_batches.augment = a.augment;
  s.train_batches.seed = s.seed;
  s.train_batches.max_batches = a.max_batches;
  s.eval_batch_size = a.eval_batch_size;
  s.eval_max_batches = a.eval_max_batches;

  s.controller.target_bits = a.target_bits.value_or(a.config.target_bits);
  s.controller.branch = a.target_branch
                            ? flag("--target-branch", [&] { return parse_branch(*a.target_branch); })
                            : a.config.target_branch;
  s.controller.target_zero_ratio = a.target_zero_ratio;
  s.controller.tolerance = a.config.controller.tolerance;
  s.controller.step_size = a.config.controller.step_size;
  s.controller.alpha_min = a.config.layer.alpha_min;
  s.controller.alpha_max = a.config.controller.alpha_max;
  flag("--target-bits / --target-zero-ratio", [&] { return TargetBitsController(s.controller); });
  s.controller_frequency =
      flag("--controller-frequency", [&] { return parse_controller_frequency(a.controller_frequency); });
  s.controller_affects =
      flag("--controller-affects", [&] { return parse_controller_affects(a.controller_affects); });
  return s;
}

CifarData load_data(const TrainResnetArgs& a) {
  const std::string root = dataset_root(a);
  switch (dataset_kind(a)) {
    case DatasetKind::synthetic:
      return synthetic_cifar(a.batch_size, a.max_batches, a.eval_batch_size, a.eval_max_batches,
                             static_cast<uint64_t>(a.seed));
    case DatasetKind::fashion_mnist:
      return load_fashion_mnist(root);
    case DatasetKind::cifar10:
      break;
  }
  if (a.download && !find_cifar_dir(root))
    download_cifar(root, a.dataset_url.empty() ? kCifarUrl : a.dataset_url,
                   a.dataset_md5.empty() ? kCifarMd5 : a.dataset_md5);
  return load_cifar(root);
}

Json arguments_json(const TrainResnetArgs& a) {
  auto opt = [](const auto& v) { return v ? Json(*v) : Json(); };
  return {{"dataset", dataset_kind_name(dataset_kind(a))}, {"dataset_root", dataset_root(a)},
          {"epochs", a.epochs}, {"batch_size", a.batch_size},
          {"eval_batch_size", a.eval_batch_size}, {"lr", opt(a.lr)}, {"mode", a.mode},
          {"target_bits", opt(a.target_bits)}, {"target_branch", opt(a.target_branch)},
          {"target_zero_ratio", opt(a.target_zero_ratio)},
          {"controller_frequency", a.controller_frequency},
          {"controller_affects", a.controller_affects}, {"log_jsonl", a.log_jsonl},
          {"device", a.device}, {"seed", a.seed}, {"download", a.download},
          {"max_batches", a.max_batches}, {"eval_max_batches", a.eval_max_batches},
          {"optimizer", a.optimizer}, {"first_last_fp32", a.first_last_fp32},
          {"synthetic", a.synthetic}, {"save_checkpoint", a.save_checkpoint},
          {"checkpoint_dir", a.checkpoint_dir}, {"run_name", run_name_for(a)},
          {"activation_grad", opt(a.activation_grad)}, {"augment", a.augment},
          {"weight_decay", opt(a.weight_decay)}, {"momentum", a.momentum},
          {"lr_schedule", a.lr_schedule}, {"checkpoint_every", a.checkpoint_every},
          {"resume", a.resume}};
}

// Turns the trainer's events into the reference's records, console lines and progress.
class RecordingObserver : public TrainObserver {
 public:
  RecordingObserver(const TrainRecordContext& ctx, JsonlWriter& log, std::ostream& out,
                    Progress* progress, std::function<void(const Json&)> on_epoch_done)
      : ctx_(ctx), log_(log), out_(out), progress_(progress), on_epoch_done_(on_epoch_done) {}

  void on_batch(const BatchEvent& e) override {
    timing_.train_seconds += lap();
    timing_.train_images += e.examples;
    ControlView c{e.stats.global_zero_ratio - ctx_.target_zero_ratio, 0.0,
                  e.stats.alpha_target_mean, e.stats.alpha_target_mean};
    if (e.control) c = {e.control->error, e.control->delta, e.control->alpha_next_mean,
                        e.control->alpha_next_mean};
    last_batch_alpha_target_ = c.alpha_target_mean;
    const Json r = batch_record(ctx_, e, c);
    log_.write(r);
    if (e.batch == 1) out_ << console_line(r) << std::endl;
    if (progress_) {
      if (e.batch == 1) progress_->start_epoch(e.epoch);
      loss_sum_ = (e.batch == 1 ? 0.0 : loss_sum_) + e.loss * e.examples;
      correct_ = (e.batch == 1 ? 0.0 : correct_) + e.accuracy * e.examples;
      seen_ = (e.batch == 1 ? 0 : seen_) + e.examples;
      progress_->update(e.batch, loss_sum_ / seen_, correct_ / seen_, e.examples);
    }
  }

  void on_epoch(const EpochEvent& e) override {
    const double eval_seconds = lap();  // the epoch's evaluation ran just before this event
    if (e.eval) timing_.eval_seconds += eval_seconds, timing_.eval_images += e.eval->examples;
    if (progress_) progress_->end_epoch();
    ControlView c{e.stats.global_zero_ratio - ctx_.target_zero_ratio, 0.0,
                  last_batch_alpha_target_, last_batch_alpha_target_};
    if (e.control) c = {e.control->error, e.control->delta, e.control->alpha_next_mean,
                        e.control->alpha_next_mean};
    last_epoch_ = epoch_record(ctx_, e, c);
    out_ << console_line(last_epoch_) << std::endl;
    log_.write(last_epoch_);
    if (e.eval) {
      const Json r = eval_record(ctx_, e, c.alpha_next_mean);
      out_ << console_line(r) << std::endl;
      log_.write(r);
    }
    on_epoch_done_(last_epoch_);
    lap();  // checkpoints and records are neither training nor evaluation
  }

  const Json& last_epoch() const { return last_epoch_; }
  const TrainTiming& timing() const { return timing_; }

 private:
  const TrainRecordContext& ctx_;
  JsonlWriter& log_;
  std::ostream& out_;
  Progress* progress_;
  std::function<void(const Json&)> on_epoch_done_;
  double last_batch_alpha_target_ = 0, loss_sum_ = 0, correct_ = 0;
  int64_t seen_ = 0;
  Json last_epoch_;
  // Wall time between events: a batch event ends a training step, an epoch event the epoch's
  // evaluation. Starts when the observer is made, just before training.
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  TrainTiming timing_;
};

}  // namespace

DatasetKind dataset_kind(const TrainResnetArgs& a) {
  const DatasetKind kind = parse_dataset_kind(a.dataset);
  CHIMERA_CHECK(!a.synthetic || kind == DatasetKind::synthetic || a.dataset == "cifar10",
                "--synthetic and --dataset ", a.dataset, " contradict each other; pass one");
  return a.synthetic ? DatasetKind::synthetic : kind;
}

std::string dataset_root(const TrainResnetArgs& a) {
  return a.dataset_root.empty() ? default_dataset_root(dataset_kind(a)) : a.dataset_root;
}

std::string checkpoint_path_for(const TrainResnetArgs& args) {
  return (std::filesystem::path(args.checkpoint_dir) / (run_name_for(args) + ".safetensors"))
      .string();
}

TrainResnetResult train_resnet(const TrainResnetArgs& args, std::ostream& console) {
  TrainSettings settings = settings_from(args);
  settings.comm = args.comm;
  settings.sync_batchnorm = args.sync_batchnorm;
  // With several ranks, rank 0 alone speaks and writes; the others train silently.
  const bool lead = !args.comm || args.comm->rank() == 0;
  std::ostringstream silent;
  std::ostream& out = lead ? console : silent;
  CHIMERA_CHECK(args.resume.empty() || std::filesystem::is_regular_file(args.resume),
                "--resume: no checkpoint at '", args.resume, "'");
  Trainer trainer(settings);
  if (!args.resume.empty()) trainer.restore(load_checkpoint(args.resume));
  CHIMERA_CHECK(trainer.epochs_done() < settings.epochs, "--resume: the checkpoint has already ",
                trainer.epochs_done(), " of ", settings.epochs,
                " epochs; raise --epochs to train further");
  const CifarData data = load_data(args);

  TrainRecordContext ctx;
  ctx.base = RecordContext{"train_resnet_cifar-mode-" + args.mode + "-seed-" +
                               std::to_string(args.seed),
                           "train_resnet_cifar",
                           args.mode,
                           args.seed,
                           args.seed,
                           settings.optimizer.lr,
                           settings.optimizer.name,
                           settings.controller.target_bits};
  ctx.config = args.config;
  ctx.target_branch = branch_name(settings.controller.branch);
  ctx.target_zero_ratio = trainer.controller().target_zero_ratio();
  ctx.controller_frequency = controller_frequency_name(settings.controller_frequency);
  ctx.controller_affects = controller_affects_name(settings.controller_affects);

  if (lead && (args.save_checkpoint || args.checkpoint_every > 0))
    require_writable_folder(args.checkpoint_dir, "--checkpoint-dir");
  JsonlWriter log = args.log_jsonl.empty() || !lead ? JsonlWriter()
                                                    : JsonlWriter(args.log_jsonl, args.append_log);
  // "input": what the model was built for (the stem's channels, the image size it was fed).
  const Json meta_base = {
      {"config", config_to_json(args.config)},
      {"arguments", arguments_json(args)},
      {"input",
       {{"dataset", dataset_kind_name(dataset_kind(args))},
        {"channels", dataset_channels(dataset_kind(args))},
        {"height", data.train.images.size(2)},
        {"width", data.train.images.size(3)}}}};
  TrainResnetResult result;
  auto save = [&](const Json& metrics) {
    if (!lead) return;
    Json meta = meta_base;
    meta["metrics"] = metrics;
    result.checkpoint_path = checkpoint_path_for(args);
    save_checkpoint(result.checkpoint_path, trainer.checkpoint(meta));
  };

  std::unique_ptr<Progress> progress;
  if (args.progress && lead)
    progress = std::make_unique<Progress>(
        stderr, settings.epochs, count_batches(data.train.size(), settings.train_batches));
  RecordingObserver observer(ctx, log, out, progress.get(), [&](const Json& epoch) {
    if (args.checkpoint_every > 0 && epoch["epoch"].get<int64_t>() % args.checkpoint_every == 0)
      save(epoch);
  });
  trainer.run(data, observer);
  result.timing = observer.timing();

  result.final_record = final_record(observer.last_epoch());
  // Throughput of this run (wall time of the steps and of the evaluations), for the report.
  const TrainTiming& t = result.timing;
  result.final_record["train_images_per_s"] =
      t.train_seconds > 0 ? Json(t.train_images / t.train_seconds) : Json();
  result.final_record["eval_images_per_s"] =
      t.eval_seconds > 0 ? Json(t.eval_images / t.eval_seconds) : Json();
  out << console_line(result.final_record) << std::endl;
  log.write(result.final_record);
  result.summary = train_summary_record(ctx, result.final_record);
  out << console_line(result.summary) << std::endl;
  log.write(result.summary);
  if (args.save_checkpoint) save(result.final_record);
  return result;
}

}  // namespace chimera
