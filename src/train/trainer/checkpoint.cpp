#include "train/trainer/checkpoint.h"

#include "engine/io/safetensors.h"

namespace chimera {

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  std::map<std::string, Tensor> tensors = checkpoint.model;
  for (const auto& [key, t] : checkpoint.optimizer) tensors[kOptimizerPrefix + key] = t;
  std::map<std::string, std::string> meta{{"format", kCheckpointFormat},
                                          {"engine_version", CHIMERA_VERSION}};
  for (const auto& [key, value] : checkpoint.metadata.items()) {
    CHIMERA_CHECK(key != "format" && key != "engine_version", "checkpoint metadata key '", key,
                  "' is reserved");
    meta[key] = value.dump();
  }
  write_safetensors(path, tensors, meta);
}

Checkpoint load_checkpoint(const std::string& path) {
  Safetensors st = read_safetensors(path);
  Checkpoint out;
  const std::string prefix = kOptimizerPrefix;
  for (auto& [key, t] : st.tensors) {
    if (key.compare(0, prefix.size(), prefix) == 0) out.optimizer[key.substr(prefix.size())] = t;
    else out.model[key] = t;
  }
  for (const auto& [key, value] : st.metadata) {
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

}  // namespace chimera
