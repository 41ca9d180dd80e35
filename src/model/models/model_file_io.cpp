#include "model/models/model_file_io.h"

#include <functional>
#include <map>
#include <utility>

namespace chimera {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Each ternary layer with its name ("layer1.0.conv1"), in module order.
std::vector<std::pair<std::string, TernaryLayer*>> named_ternary_layers(
    Module& model, const std::vector<TernaryLayer*>& layers) {
  std::map<const Var*, TernaryLayer*> by_weight;
  for (TernaryLayer* layer : layers) by_weight[&layer->weight_master] = layer;
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
void visit_inference_floats(Module& model, const std::vector<TernaryLayer*>& layers,
                            const std::function<void(const std::string&, Tensor&)>& on_tensor) {
  std::vector<std::string> ternary_prefixes;
  for (const auto& [name, layer] : named_ternary_layers(model, layers))
    ternary_prefixes.push_back(name);
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

}  // namespace

void export_module_tensors(Module& model, const std::vector<TernaryLayer*>& layers,
                           PackFormat format, double eps_beta, ModelFile& file) {
  for (const auto& [name, layer] : named_ternary_layers(model, layers)) {
    CHIMERA_CHECK(layer->quant.options.eps_beta == eps_beta, "export: layer '", name,
                  "' has eps_beta ", layer->quant.options.eps_beta, ", the model ", eps_beta,
                  "; a model file records one value for all layers");
    const QuantizedWeight q = layer->eval_weight();
    const int64_t rows = q.codes.size(0);
    TernaryTensor t;
    t.shape = q.codes.shape();
    t.packed = pack_ternary(q.codes.reshape({rows, q.codes.numel() / rows}), q.gamma, format);
    t.alpha = q.alpha;
    t.clip = q.clip;
    file.ternary.emplace_back(name + ".weight", std::move(t));
  }
  visit_inference_floats(model, layers, [&](const std::string& name, Tensor& t) {
    file.floats.emplace_back(name, t.clone());
  });
}

void load_module_tensors(Module& model, const std::vector<TernaryLayer*>& layers,
                         const ModelFile& file, const std::string& what) {
  size_t floats_used = 0;
  visit_inference_floats(model, layers, [&](const std::string& name, Tensor& dst) {
    const Tensor* src = find_entry(file.floats, name);
    CHIMERA_CHECK(src != nullptr, "model file: no float32 tensor '", name, "', which a ", what,
                  " needs");
    CHIMERA_CHECK(src->shape() == dst.shape(), "model file: tensor '", name, "' has shape ",
                  shape_str(src->shape()), ", the model expects ", shape_str(dst.shape()));
    dst.copy_from(*src);
    ++floats_used;
  });
  size_t ternary_used = 0;
  for (const auto& [prefix, layer] : named_ternary_layers(model, layers)) {
    const std::string name = prefix + ".weight";
    const TernaryTensor* t = find_entry(file.ternary, name);
    CHIMERA_CHECK(t != nullptr, "model file: no ternary tensor '", name, "', which a ", what,
                  " needs");
    CHIMERA_CHECK(t->shape == layer->weight_master.shape(), "model file: tensor '", name,
                  "' has shape ", shape_str(t->shape), ", the model expects ",
                  shape_str(layer->weight_master.shape()));
    QuantizedWeight q;
    q.codes = unpack_codes(t->packed).reshape(t->shape);
    q.gamma = t->packed.header.scale;
    q.alpha = t->alpha;
    q.clip = t->clip;
    layer->set_fixed_weight(q);
    ++ternary_used;
  }
  CHIMERA_CHECK(floats_used == file.floats.size() && ternary_used == file.ternary.size(),
                "model file: holds ", file.floats.size(), " float32 and ", file.ternary.size(),
                " ternary tensors, a ", what, " reads ", floats_used, " and ", ternary_used);
}

void add_description_extra(nlohmann::json& description, const nlohmann::json& extra) {
  for (const auto& [key, value] : extra.items()) {
    CHIMERA_CHECK(!description.contains(key), "export: description key '", key,
                  "' is reserved");
    description[key] = value;
  }
}

}  // namespace chimera
