// A ResNet-20 to a model file (model_file.h) and back. The file holds, per ternary layer, the
// codes, gamma, alpha and clip of its eval-mode quantization (TernaryLayer::eval_weight, so a
// controlled alpha is included), and every other tensor the eval forward reads as float32.
// Left out, because an eval forward never reads them: weight_master, scale_ema and forward_step
// of the ternary layers, num_batches_tracked of BatchNorm.
//
// The model built from a file is a ChimeraResNet20 whose ternary layers run from their fixed
// weights (TernaryLayer::set_fixed_weight): the same forward code as the source model with the
// integer products on packed 2-bit weights (i2t_gemm; convolutions im2col + i2t_gemm). Every
// format is decoded to int8 codes at load time and packed again as i2 for the kernels, so a
// model's logits do not depend on the file's format and equal, bit for bit, those of the eval
// forward of the model it was exported from.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "model/models/model_file.h"
#include "model/models/resnet20.h"

namespace chimera {

// description: {"model": {"architecture": "resnet20", "mode", "first_last_fp32", "num_classes",
// "eps_beta", "batch_norm_eps"}, "pack_format", "engine_version"} plus the keys of `extra`
// (provenance: the source checkpoint, the training run's arguments), which must not collide.
ModelFile export_resnet20(ChimeraResNet20& model, PackFormat format,
                          const nlohmann::json& extra = nlohmann::json::object());

// The model a file describes, in eval mode. A description or tensor set that does not match a
// ResNet-20 of the recorded options is an error naming the file's entry.
std::unique_ptr<ChimeraResNet20> resnet20_from_file(const ModelFile& file);

}  // namespace chimera
