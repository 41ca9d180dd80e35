#include "model/models/resnet20_file.h"

#include <map>
#include <utility>

namespace chimera {

namespace {

constexpr const char* kArchitecture = "resnet20";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Each ternary layer with its name ("layer1.0.conv1"), in module order.
std::vector<std::pair<std::string, TernaryLayer*>> named_ternary_layers(ChimeraResNet20& model) {
  std::map<const Var*, TernaryLayer*> by_weight;
  for (TernaryLayer* layer : model.quantized_layers()) by_weight[&layer->weight_master] = layer;
  std::vector<std::pair<std::string, TernaryLayer*>> out;
  const std::string suffix = ".weight_master";
  model.visit(
      [&](const std::string& name, Var& p) {
        auto it = by_weight.find(&p);
        if (it != by_weight.end())
          out.emplace_back(name.substr(0, name.size() - suffix.size()), it->second);
      },
      [](const std::string&, Tensor&) {});
  return out;
}

// The float tensors an eval forward reads, by state-dict name (module order): everything but
// the ternary layers' master weights and quantizer state and BatchNorm's batch counter.
void visit_inference_floats(ChimeraResNet20& model,
                            const std::function<void(const std::string&, Tensor&)>& on_tensor) {
  std::vector<std::string> ternary_prefixes;
  for (const auto& [name, layer] : named_ternary_layers(model)) ternary_prefixes.push_back(name);
  auto used = [&](const std::string& name) {
    for (const std::string& prefix : ternary_prefixes)
      for (const char* own : {".weight_master", ".scale_ema", ".forward_step"})
        if (name == prefix + own) return false;
    return !ends_with(name, ".num_batches_tracked");
  };
  model.visit(
      [&](const std::string& name, Var& p) {
        if (used(name)) on_tensor(name, p.value());
      },
      [&](const std::string& name, Tensor& b) {
        if (used(name)) on_tensor(name, b);
      });
}

template <class T>
const T* find_entry(const std::vector<std::pair<std::string, T>>& entries,
                    const std::string& name) {
  for (const auto& [n, value] : entries)
    if (n == name) return &value;
  return nullptr;
}

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
  for (const auto& [name, layer] : named_ternary_layers(model)) {
    CHIMERA_CHECK(layer->quant.options.eps_beta == o.layer.eps_beta, "export: layer '", name,
                  "' has eps_beta ", layer->quant.options.eps_beta, ", the model ",
                  o.layer.eps_beta, "; a model file records one value for all layers");
    const QuantizedWeight q = layer->eval_weight();
    const int64_t rows = q.codes.size(0);
    TernaryTensor t;
    t.shape = q.codes.shape();
    t.packed = pack_ternary(q.codes.reshape({rows, q.codes.numel() / rows}), q.gamma, format);
    t.alpha = q.alpha;
    t.clip = q.clip;
    file.ternary.emplace_back(name + ".weight", std::move(t));
  }
  visit_inference_floats(model, [&](const std::string& name, Tensor& t) {
    file.floats.emplace_back(name, t.clone());
  });
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
  for (const auto& [key, value] : extra.items()) {
    CHIMERA_CHECK(!file.description.contains(key), "export: description key '", key,
                  "' is reserved");
    file.description[key] = value;
  }
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
  Rng rng(0);  // every value the forward reads is replaced below
  auto model = std::make_unique<ChimeraResNet20>(options, rng);
  CHIMERA_CHECK(bn_eps == model->bn1.eps, "model file: BatchNorm eps ", bn_eps,
                ", this build's ResNet-20 uses ", model->bn1.eps);

  size_t floats_used = 0;
  visit_inference_floats(*model, [&](const std::string& name, Tensor& dst) {
    const Tensor* src = find_entry(file.floats, name);
    CHIMERA_CHECK(src != nullptr, "model file: no float32 tensor '", name, "', which a ",
                  model_mode_name(options.mode), " ResNet-20 needs");
    CHIMERA_CHECK(src->shape() == dst.shape(), "model file: tensor '", name, "' has shape ",
                  shape_str(src->shape()), ", the model expects ", shape_str(dst.shape()));
    dst.copy_from(*src);
    ++floats_used;
  });
  size_t ternary_used = 0;
  for (const auto& [prefix, layer] : named_ternary_layers(*model)) {
    const std::string name = prefix + ".weight";
    const TernaryTensor* t = find_entry(file.ternary, name);
    CHIMERA_CHECK(t != nullptr, "model file: no ternary tensor '", name, "', which a ",
                  model_mode_name(options.mode), " ResNet-20 needs");
    CHIMERA_CHECK(t->shape == layer->weight_master.shape(), "model file: tensor '", name,
                  "' has shape ", shape_str(t->shape), ", the model expects ",
                  shape_str(layer->weight_master.shape()));
    QuantizedWeight q;
    q.codes = unpack_codes(t->packed).reshape(t->shape);
    q.gamma = t->packed.header.scale;
    q.alpha = t->alpha;
    q.clip = t->clip;
    layer->set_fixed_weight(q);
    // Never read again; holding gamma * q keeps the state dict meaningful.
    layer->weight_master.value().copy_from(unpack_values(t->packed).reshape(t->shape));
    ++ternary_used;
  }
  CHIMERA_CHECK(floats_used == file.floats.size() && ternary_used == file.ternary.size(),
                "model file: holds ", file.floats.size(), " float32 and ", file.ternary.size(),
                " ternary tensors, a ", model_mode_name(options.mode),
                options.first_last_fp32 ? " first_last_fp32" : "", " ResNet-20 reads ", floats_used,
                " and ", ternary_used);
  model->eval();
  return model;
}

}  // namespace chimera
