// `chimera train-resnet`: the reference's trainer flags with SPEC §5 semantics, plus the
// project's additions (activation gradient, augmentation, schedules, checkpoints and resume).
#pragma once

#include "train/parallel/communicator.h"

#include <optional>
#include <ostream>
#include <string>

#include "harness/experiments/config.h"
#include "harness/log/jsonl.h"
#include "train/data/dataset_choice.h"

namespace chimera {

struct TrainResnetArgs {
  Config config;
  std::string dataset = "cifar10";  // cifar10 | fashion-mnist | synthetic (train/data/dataset_choice.h)
  std::string dataset_root;         // empty: the dataset's default place (default_dataset_root)
  int64_t epochs = 1;
  int64_t batch_size = 16;       // reference default: the config's benchmark.batch_size
  int64_t eval_batch_size = 16;
  std::optional<double> lr;      // default: the config's lr
  std::string mode = "chimera";
  std::optional<double> target_bits;  // default: the config's target_bits
  std::optional<std::string> target_branch;
  std::optional<double> target_zero_ratio;
  std::string controller_frequency = "epoch";
  std::string controller_affects = "alpha_target";
  std::string log_jsonl;
  bool append_log = false;
  std::string device = "cpu";
  int64_t seed = 7;
  bool download = false;
  std::string dataset_url, dataset_md5;  // empty: the official ones
  int64_t max_batches = 0;
  int64_t eval_max_batches = 0;
  std::string optimizer;  // empty: sgd for fp32_baseline, chimera21 otherwise
  bool first_last_fp32 = false;
  bool synthetic = false;  // the same as dataset = synthetic (the reference's flag)
  bool save_checkpoint = false;
  std::string checkpoint_dir = "outputs/checkpoints";
  std::string run_name;  // default train_resnet_cifar_<mode>_seed<seed>
  std::optional<std::string> activation_grad;  // default: the config's
  bool augment = false;
  std::optional<double> weight_decay;  // default: the config's
  double momentum = 0.9;
  std::string lr_schedule = "constant";
  int64_t checkpoint_every = 0;  // epochs; 0 = only at the end (with --save-checkpoint)
  std::string resume;
  bool progress = true;  // progress display on stderr
  // Data-parallel training (mpirun): every rank trains its shard of each batch; rank 0 alone
  // prints, logs and writes checkpoints. Null: one process. Not owned.
  Communicator* comm = nullptr;
  bool sync_batchnorm = false;  // with comm: batch statistics over all ranks (else per rank)
};

// Wall time of the training steps (forward, backward, optimizer, controller; the records
// written in between are a small share) and of the per-epoch evaluations, with their images.
struct TrainTiming {
  double train_seconds = 0, eval_seconds = 0;
  int64_t train_images = 0, eval_images = 0;
};

struct TrainResnetResult {
  Json final_record, summary;
  TrainTiming timing;
  std::string checkpoint_path;  // empty when none was written
};

// Validates every argument before touching any file (errors name the flag), then trains,
// writing console lines to `out` and records to args.log_jsonl.
TrainResnetResult train_resnet(const TrainResnetArgs& args, std::ostream& out);

// The dataset the flags choose (--dataset, or --synthetic) and the folder it is read from.
DatasetKind dataset_kind(const TrainResnetArgs& args);
std::string dataset_root(const TrainResnetArgs& args);

// The checkpoint file a run writes: <checkpoint_dir>/<run_name>.safetensors.
std::string checkpoint_path_for(const TrainResnetArgs& args);

}  // namespace chimera
