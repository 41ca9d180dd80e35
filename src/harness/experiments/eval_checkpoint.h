// `chimera eval`: evaluation of a saved model on the test split. Takes our checkpoints, state
// dicts saved from the reference's PyTorch model (same names), and model files from
// `chimera export` (packed ternary weights; the same logits as the checkpoint they came from).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "harness/log/jsonl.h"
#include "model/models/resnet20.h"
#include "train/trainer/checkpoint.h"

namespace chimera {

struct EvalArgs {
  std::string checkpoint;  // exactly one of checkpoint and model
  std::string model;
  // The data: --dataset (cifar10 | fashion-mnist | synthetic), else the training run's recorded
  // dataset (CIFAR-10 files when that was the smoke data and a folder is given), else CIFAR-10
  // from --dataset-root; the folder: --dataset-root, else the dataset's default place.
  std::optional<std::string> dataset;
  std::string dataset_root;
  bool synthetic = false;  // = --dataset synthetic
  // Default: the training run's eval batch size when recorded, else 128. It matters for
  // quantized models: the activation scale beta is taken over the whole batch.
  std::optional<int64_t> batch_size;
  int64_t max_batches = 0;
  int64_t seed = 7;  // synthetic data, unless the checkpoint records the run's own
  std::optional<std::string> mode;
  // The controlled alpha of every ternary layer, for state dicts that do not carry it (the
  // reference's keeps it outside the state dict); overrides the checkpoint's own.
  std::optional<double> alpha_override;  // checkpoints only; default: the checkpoint's, else inferred
};

// The model a checkpoint describes: its recorded mode and first_last_fp32, or what its tensor
// names say (weight_master means ternary; a plain conv1.weight next to ternary layers means
// first_last_fp32; strict_bitnet vs chimera cannot be told from names: chimera unless the
// metadata or `mode` says otherwise). The weights and buffers are loaded with strict names.
std::unique_ptr<ChimeraResNet20> model_from_checkpoint(const Checkpoint& checkpoint,
                                                       const std::optional<std::string>& mode);

// {"test_loss", "test_accuracy", "examples"}. Batch size and --synthetic data come from the
// training run's "arguments" (checkpoint metadata, or the model file's description) when present.
// eval_seconds, when given, gets the wall time of the evaluation alone (not the loading).
Json eval_checkpoint(const EvalArgs& args, double* eval_seconds = nullptr);

}  // namespace chimera
