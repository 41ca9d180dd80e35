#include "train/trainer/checkpoint.h"

#include "engine/io/atomic_file.h"
#include "engine/io/mapped_file.h"
#include "engine/io/safetensors.h"
#include "engine/io/sha256.h"

namespace chimera {

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  write_file_atomic(path, serialize_checkpoint(checkpoint));
}

std::string serialize_checkpoint(const Checkpoint& checkpoint) {
  std::map<std::string, Tensor> tensors = checkpoint.model;
  for (const auto& [key, t] : checkpoint.optimizer) tensors[kOptimizerPrefix + key] = t;
  std::map<std::string, std::string> meta{{"format", kCheckpointFormat},
                                          {"engine_version", CHIMERA_VERSION}};
  nlohmann::json sums = nlohmann::json::object();
  for (const auto& [key, t] : tensors) sums[key] = sha256_hex(t.raw(), t.nbytes());
  meta[kChecksumKey] = sums.dump();
  for (const auto& [key, value] : checkpoint.metadata.items()) {
    CHIMERA_CHECK(key != "format" && key != "engine_version" && key != kChecksumKey,
                  "checkpoint metadata key '", key, "' is reserved");
    meta[key] = value.dump();
  }
  return serialize_safetensors(tensors, meta);
}

namespace {

// Every tensor must match the digest saved with it; files without digests (state dicts written
// by PyTorch, checkpoints of earlier builds) load unchecked.
void verify_checksums(const Safetensors& st, const std::string& path) {
  const auto it = st.metadata.find(kChecksumKey);
  if (it == st.metadata.end()) return;
  nlohmann::json sums;
  try {
    sums = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception&) {
  }
  CHIMERA_CHECK(sums.is_object(), "checkpoint '", path, "': its '", kChecksumKey,
                "' metadata is damaged (the file is corrupt)");
  for (const auto& [key, t] : st.tensors) {
    CHIMERA_CHECK(sums.contains(key) && sums[key].is_string(), "checkpoint '", path,
                  "': tensor '", key, "' has no checksum (the file was altered or is corrupt)");
    CHIMERA_CHECK(sums[key].get<std::string>() == sha256_hex(t.raw(), t.nbytes()), "checkpoint '",
                  path, "': tensor '", key,
                  "' does not match its SHA-256 (the file is corrupt; use an earlier checkpoint)");
  }
  for (const auto& [key, digest] : sums.items())
    CHIMERA_CHECK(st.tensors.count(key), "checkpoint '", path, "': tensor '", key,
                  "' is listed in the checksums but missing (the file is corrupt)");
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path) {
  const MappedFile file = map_file(path);
  return parse_checkpoint(file.bytes(), path, file.owner);
}

Checkpoint parse_checkpoint(std::string_view bytes, const std::string& path,
                            const std::shared_ptr<void>& owner) {
  Safetensors st = parse_safetensors(bytes, path, owner);
  verify_checksums(st, path);
  Checkpoint out;
  const std::string prefix = kOptimizerPrefix;
  for (auto& [key, t] : st.tensors) {
    if (key.compare(0, prefix.size(), prefix) == 0) out.optimizer[key.substr(prefix.size())] = t;
    else out.model[key] = t;
  }
  for (const auto& [key, value] : st.metadata) {
    if (key == kChecksumKey) continue;
    if (key == "format") {
      CHIMERA_CHECK(value == kCheckpointFormat, "'", path, "' is a checkpoint of format '", value,
                    "'; this build reads '", kCheckpointFormat, "'");
      continue;
    }
    try {
      out.metadata[key] = nlohmann::json::parse(value);
    } catch (const nlohmann::json::exception&) {
      out.metadata[key] = value;  // foreign files may carry plain strings
    }
  }
  return out;
}

nlohmann::json alpha_state(const std::vector<TernaryLayer*>& layers) {
  nlohmann::json overrides = nlohmann::json::array(), targets = nlohmann::json::array();
  for (const TernaryLayer* layer : layers) {
    const BitLayerOptions& o = layer->quant.options;
    overrides.push_back(o.alpha_override ? nlohmann::json(*o.alpha_override) : nlohmann::json());
    targets.push_back(o.alpha_target);
  }
  return {{"alpha_target", targets}, {"alpha_override", overrides}};
}

void restore_alpha_state(const std::vector<TernaryLayer*>& layers, const nlohmann::json& state) {
  const nlohmann::json& targets = state.at("alpha_target");
  const nlohmann::json& overrides = state.at("alpha_override");
  CHIMERA_CHECK(targets.size() == layers.size() && overrides.size() == layers.size(),
                "the checkpoint's model has ", targets.size(), " ternary layers, this one has ",
                layers.size(), " (use the same --mode and --first-last-fp32)");
  for (size_t i = 0; i < layers.size(); ++i) {
    BitLayerOptions& o = layers[i]->quant.options;
    o.alpha_target = targets[i].get<double>();
    if (overrides[i].is_null()) o.alpha_override.reset();
    else o.alpha_override = overrides[i].get<double>();
  }
}

Checkpoint training_checkpoint(Module& model, const std::vector<TernaryLayer*>& layers,
                               const Optimizer& optimizer, const nlohmann::json& metadata,
                               const std::string& state_key, const nlohmann::json& progress) {
  Checkpoint c;
  for (const auto& [name, t] : model.state_dict()) c.model[name] = t.clone();
  c.optimizer = optimizer.state_dict();
  c.metadata = metadata;
  nlohmann::json state = alpha_state(layers);
  for (const auto& [key, value] : progress.items()) state[key] = value;
  c.metadata[state_key] = state;
  return c;
}

const nlohmann::json& restore_training_state(const Checkpoint& c, Module& model,
                                             const std::vector<TernaryLayer*>& layers,
                                             Optimizer& optimizer, const std::string& state_key,
                                             const std::string& what,
                                             const std::string& written_by) {
  CHIMERA_CHECK(c.metadata.contains(state_key), "the checkpoint has no ", what,
                " to resume from (was it written by ", written_by, "?)");
  const nlohmann::json& s = c.metadata.at(state_key);
  restore_alpha_state(layers, s);
  model.load_state_dict(c.model);
  optimizer.load_state_dict(c.optimizer);
  return s;
}

}  // namespace chimera
