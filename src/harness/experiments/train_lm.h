// `chimera train-lm`: a BitNet-style transformer on Debian's English text (byte tokens), with
// the harness's conventions: JSONL records, checkpoints in the project's format, --resume
// bit-identical, a progress line, --threads, seeds.
#pragma once

#include "train/parallel/communicator.h"

#include <optional>
#include <ostream>
#include <string>

#include "harness/experiments/config.h"
#include "harness/log/jsonl.h"
#include "train/trainer/lm_trainer.h"

namespace chimera {

// Checkpoint metadata key "model_type" of a language model; ResNet checkpoints have none.
inline constexpr const char* kLmModelType = "transformer_lm";

struct TrainLmArgs {
  Config config;                     // lm.* and the ternary layers' keys
  std::string config_source = "built-in defaults";
  std::optional<std::string> mode;   // default: transformer.mode of the config
  std::optional<std::string> optimizer;
  std::optional<double> lr;
  std::optional<int64_t> steps;
  std::optional<int64_t> batch_size;
  std::optional<double> target_bits;  // chimera mode's controlled effective bits
  int64_t seed = 7;
  std::string corpus = kFortunesDir;
  std::string log_jsonl;  // default: <out_dir>/<run_name>.jsonl
  std::string out_dir = "outputs/lm";
  std::string checkpoint_dir = "outputs/checkpoints";
  std::string run_name;  // default train_lm_<mode>_seed<seed>
  int64_t checkpoint_every = 0;  // steps; 0: only at the end
  int64_t stop_after = 0;  // end this invocation after this step of the schedule (0: at the end)
  std::string resume;
  bool progress = true;
  // Data-parallel training (mpirun): every rank trains its rows of each batch; rank 0 alone
  // prints, logs and writes checkpoints. Null: one process. Not owned.
  Communicator* comm = nullptr;
};

struct TrainLmResult {
  Json final_record;
  std::string checkpoint_path, log_path;
};

// The settings the arguments give (errors name the flag or config key), before any file is
// touched.
LmTrainSettings lm_settings_from(const TrainLmArgs& args);
std::string lm_run_name(const TrainLmArgs& args);

TrainLmResult train_lm(const TrainLmArgs& args, std::ostream& out);

}  // namespace chimera
