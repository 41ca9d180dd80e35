// The experiment configuration: configs/default.yaml's keys, with the same values built in, so
// a run without --config behaves exactly as one with the default file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/layers/bit_layer.h"
#include "model/models/transformer_lm.h"
#include "model/quant/target_bits.h"
#include "train/optim/chimera21_options.h"

namespace chimera {

struct ControllerConfig {
  double tolerance = 0.02;
  double step_size = 0.05;
  double alpha_max = 1.5;
};

struct BenchmarkConfig {
  int64_t steps = 8;
  int64_t seeds = 3;
  int64_t batch_size = 16;
  int64_t in_features = 8;
  int64_t out_features = 4;
  std::string log_dir = "outputs";
};

// The language model (configs/lm-*.yaml): its shape under `transformer:` (the ternary layers'
// settings are the file's top-level quantizer keys, vocab_size comes from the tokenizer) and its
// training under `lm_training:`.
struct LmConfig {
  TransformerOptions model;
  std::string optimizer = "adamw";  // adamw | chimera21
  double lr = 1e-3;                 // the schedule's peak, for either optimizer
  double weight_decay = 0.1;
  int64_t steps = 1000;
  int64_t batch_size = 16;
  int64_t warmup_lr_steps = 100;
  double min_lr_ratio = 0.1;
  double grad_clip = 1.0;
  int64_t eval_every = 200;
  int64_t eval_windows = 64;
  int64_t eval_batch = 16;
  int64_t control_every = 10;
};

struct Config {
  Chimera21Options optimizer;  // lr, betas, eps_opt, weight_decay, rho_psi, gate, policies
  BitLayerOptions layer;       // stat_mode, rho_s, alphas, warmup, quant_mode, eps, ste_clip
  double target_bits = 1.32;
  Branch target_branch = Branch::sparse;
  ControllerConfig controller;
  std::vector<std::string> quant_modes{"strict_bitnet", "chimera"};
  BenchmarkConfig benchmark;
  LmConfig lm;
  std::string source = "built-in defaults";  // where the values came from, for messages
};

// Reads a YAML file over the defaults. Unknown keys, wrong types and out-of-range values are
// errors that name the key and the file.
Config load_config(const std::string& path);
// The same from YAML (or JSON) text; `source` names it in errors.
Config parse_config(const std::string& text, const std::string& source);

// The configuration as JSON with configs/default.yaml's keys (for checkpoint metadata).
nlohmann::json config_to_json(const Config& config);

}  // namespace chimera
