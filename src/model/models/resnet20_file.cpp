#include "model/models/resnet20_file.h"

#include <string>

#include "model/layers/init.h"
#include "model/models/model_file_io.h"

namespace chimera {

namespace {

constexpr const char* kArchitecture = "resnet20";

ResNet20Options options_from(const nlohmann::json& description) {
  const nlohmann::json& m = description.at("model");
  CHIMERA_CHECK(m.at("architecture").get<std::string>() == kArchitecture,
                "model file: architecture '", m.at("architecture").get<std::string>(),
                "', this build runs '", kArchitecture, "'");
  ResNet20Options o;
  o.mode = parse_model_mode(m.at("mode").get<std::string>());
  o.first_last_fp32 = m.at("first_last_fp32").get<bool>();
  o.num_classes = m.at("num_classes").get<int64_t>();
  o.in_channels = m.value("in_channels", int64_t{3});  // files before Fashion-MNIST: CIFAR-10
  CHIMERA_CHECK(o.in_channels >= 1 && o.in_channels <= 3, "model file: in_channels ",
                o.in_channels, " (1 to 3 are built)");
  o.layer.eps_beta = m.at("eps_beta").get<double>();
  return o;
}

}  // namespace

ModelFile export_resnet20(ChimeraResNet20& model, PackFormat format, const nlohmann::json& extra) {
  const ResNet20Options& o = model.options();
  ModelFile file;
  export_module_tensors(model, model.quantized_layers(), format, o.layer.eps_beta, file);
  file.description = {{"model",
                       {{"architecture", kArchitecture},
                        {"mode", model_mode_name(o.mode)},
                        {"first_last_fp32", o.first_last_fp32},
                        {"num_classes", o.num_classes},
                        {"in_channels", o.in_channels},
                        {"eps_beta", o.layer.eps_beta},
                        {"batch_norm_eps", model.bn1.eps}}},
                      {"pack_format", pack_format_name(format)},
                      {"engine_version", CHIMERA_VERSION}};
  add_description_extra(file.description, extra);
  return file;
}

std::unique_ptr<ChimeraResNet20> resnet20_from_file(const ModelFile& file) {
  ResNet20Options options;
  double bn_eps = 0;
  try {
    options = options_from(file.description);
    bn_eps = file.description.at("model").at("batch_norm_eps").get<double>();
  } catch (const nlohmann::json::exception& e) {
    CHIMERA_FAIL("model file: the description's \"model\" entry is incomplete: ", e.what());
  }
  // Built without drawing: every value the forward reads is replaced below (the ternary
  // layers' float master weights, which it does not read, stay unwritten: lazy zeros).
  DeferredInit deferred;
  Rng rng(0);
  auto model = std::make_unique<ChimeraResNet20>(options, rng);
  CHIMERA_CHECK(bn_eps == model->bn1.eps, "model file: BatchNorm eps ", bn_eps,
                ", this build's ResNet-20 uses ", model->bn1.eps);

  const std::string what = std::string(model_mode_name(options.mode)) +
                           (options.first_last_fp32 ? " first_last_fp32" : "") + " ResNet-20";
  load_module_tensors(*model, model->quantized_layers(), file, what);
  model->eval();
  return model;
}

}  // namespace chimera
