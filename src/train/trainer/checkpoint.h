// Training checkpoints: one safetensors file holding the model state dict under the reference's
// names, the optimizer state under "optimizer.<key>", and JSON metadata (config, arguments,
// metrics, engine version, where training stands). Written atomically.
//
// Loading into the reference's PyTorch model with strict key matching:
//   sd = {k: v for k, v in safetensors.torch.load_file(p).items() if not k.startswith("optimizer.")}
//   model.load_state_dict(sd, strict=True)
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/tensor.h"
#include "model/layers/module.h"
#include "model/layers/ternary_layer.h"
#include "train/optim/optimizer.h"

namespace chimera {

inline constexpr const char* kCheckpointFormat = "chimera-checkpoint-1";
inline constexpr const char* kOptimizerPrefix = "optimizer.";
// Metadata key of the per-tensor SHA-256 digests ({"name": "hex", ...}), checked on load.
inline constexpr const char* kChecksumKey = "sha256";

struct Checkpoint {
  std::map<std::string, Tensor> model;
  std::map<std::string, Tensor> optimizer;  // empty for a model-only state dict
  nlohmann::json metadata = nlohmann::json::object();  // each top-level key a JSON value
};

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);  // atomically
std::string serialize_checkpoint(const Checkpoint& checkpoint);                // the file's bytes
// Accepts our checkpoints and plain state dicts saved from the reference's model
// (no optimizer keys, no metadata). Each tensor is checked against its saved SHA-256 when the
// file has them: a flipped bit is an error naming the tensor. Errors name the file.
Checkpoint load_checkpoint(const std::string& path);
// The same for a file's bytes already in memory; `path` names them in errors. With `owner`,
// tensors share the bytes where they can (parse_safetensors); load_checkpoint maps the file.
Checkpoint parse_checkpoint(std::string_view bytes, const std::string& path,
                            const std::shared_ptr<void>& owner = nullptr);

// The controlled alphas are settings, not state-dict entries (as in the reference), yet they
// decide the model's output: checkpoints keep them in metadata as
// {"alpha_target": [...], "alpha_override": [... or null]}, one per ternary layer in order.
nlohmann::json alpha_state(const std::vector<TernaryLayer*>& layers);
void restore_alpha_state(const std::vector<TernaryLayer*>& layers, const nlohmann::json& state);

// What a trainer saves to continue a run: the model's state dict (copied), the optimizer's,
// `metadata`, and under metadata[state_key] the controlled alphas plus `progress` (where the
// run stands).
Checkpoint training_checkpoint(Module& model, const std::vector<TernaryLayer*>& layers,
                               const Optimizer& optimizer, const nlohmann::json& metadata,
                               const std::string& state_key, const nlohmann::json& progress);
// The inverse: loads model, alphas and optimizer and returns metadata[state_key]. A checkpoint
// without it is an error saying `written_by` writes such checkpoints.
const nlohmann::json& restore_training_state(const Checkpoint& c, Module& model,
                                             const std::vector<TernaryLayer*>& layers,
                                             Optimizer& optimizer, const std::string& state_key,
                                             const std::string& what, const std::string& written_by);

}  // namespace chimera
