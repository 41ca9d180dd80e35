#include "model/models/transformer_lm_file.h"

#include "model/layers/init.h"
#include "model/models/model_file_io.h"

namespace chimera {

ModelFile export_transformer_lm(TransformerLM& model, PackFormat format,
                                const nlohmann::json& extra) {
  const TransformerOptions& o = model.options();
  ModelFile file;
  export_module_tensors(model, model.quantized_layers(), format, o.layer.eps_beta, file);
  nlohmann::json m = transformer_options_json(o);
  m["architecture"] = kTransformerArchitecture;
  file.description = {{"model", m},
                      {"pack_format", pack_format_name(format)},
                      {"engine_version", CHIMERA_VERSION}};
  add_description_extra(file.description, extra);
  return file;
}

std::string model_file_architecture(const ModelFile& file) {
  const nlohmann::json& d = file.description;
  CHIMERA_CHECK(d.contains("model") && d["model"].is_object() &&
                    d["model"].contains("architecture") && d["model"]["architecture"].is_string(),
                "model file: the description names no model architecture");
  return d["model"]["architecture"].get<std::string>();
}

std::unique_ptr<TransformerLM> transformer_lm_from_file(const ModelFile& file) {
  const std::string arch = model_file_architecture(file);
  CHIMERA_CHECK(arch == kTransformerArchitecture, "model file: architecture '", arch,
                "', expected '", kTransformerArchitecture, "' (a language model)");
  const TransformerOptions options =
      transformer_options_from_json(file.description.at("model"), "model file");
  // Built without drawing: every value the forward reads is replaced below (the ternary
  // layers' float master weights, which it does not read, stay unwritten: lazy zeros).
  DeferredInit deferred;
  Rng rng(0);
  auto model = std::make_unique<TransformerLM>(options, rng);
  load_module_tensors(*model, model->quantized_layers(), file,
                      std::string(model_mode_name(options.mode)) + " transformer LM");
  model->eval();
  return model;
}

}  // namespace chimera
