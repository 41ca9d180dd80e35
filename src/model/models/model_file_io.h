// Moving a model's inference tensors into a model file (model_file.h) and back, for any model
// family: per ternary layer the codes, gamma, alpha and clip of its eval-mode quantization
// (TernaryLayer::eval_weight, so a controlled alpha is included), and every other tensor an eval
// forward reads as float32. Left out, because an eval forward never reads them: weight_master,
// scale_ema and forward_step of the ternary layers, num_batches_tracked of BatchNorm.
//
// Loading gives the ternary layers fixed weights (TernaryLayer::set_fixed_weight): the same
// forward code as the source model with the integer products on packed 2-bit weights. Every
// format is decoded to int8 codes at load time and packed again as i2 for the kernels, so a
// model's outputs do not depend on the file's format and equal, bit for bit, those of the eval
// forward of the model it was exported from.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/layers/module.h"
#include "model/layers/ternary_layer.h"
#include "model/models/model_file.h"

namespace chimera {

// Fills file.ternary and file.floats from `model`, whose ternary layers are `layers`. Every
// layer must share eps_beta (the file records one value).
void export_module_tensors(Module& model, const std::vector<TernaryLayer*>& layers,
                           PackFormat format, double eps_beta, ModelFile& file);

// Copies the file's tensors into `model`; a missing, extra or misshapen tensor is an error that
// names it and `what` (the model the file should describe, e.g. "chimera ResNet-20").
void load_module_tensors(Module& model, const std::vector<TernaryLayer*>& layers,
                         const ModelFile& file, const std::string& what);

// description[key] = value for each key of `extra`; a key already there is an error.
void add_description_extra(nlohmann::json& description, const nlohmann::json& extra);

}  // namespace chimera
