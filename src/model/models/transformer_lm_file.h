// A transformer language model to a model file (model_file.h) and back, as resnet20_file.h does
// for ResNet-20 (model_file_io.h has the rules): the ternary projections packed, the embedding,
// norms and output head as float32. The model built from a file runs its projections on the
// packed weights (i2t_gemm) and gives, bit for bit, the logits of the eval forward of the model
// it was exported from.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "model/models/model_file.h"
#include "model/models/transformer_lm.h"

namespace chimera {

inline constexpr const char* kTransformerArchitecture = "transformer_lm";

// description: {"model": {"architecture": "transformer_lm", the transformer's options},
// "pack_format", "engine_version"} plus the keys of `extra`, which must not collide.
ModelFile export_transformer_lm(TransformerLM& model, PackFormat format,
                                const nlohmann::json& extra = nlohmann::json::object());

// The model a file describes, in eval mode. A description or tensor set that does not match is
// an error naming the file's entry.
std::unique_ptr<TransformerLM> transformer_lm_from_file(const ModelFile& file);

// The architecture a model file describes ("resnet20", "transformer_lm"), for commands that
// take either.
std::string model_file_architecture(const ModelFile& file);

}  // namespace chimera
