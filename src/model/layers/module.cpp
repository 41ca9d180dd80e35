#include "model/layers/module.h"

namespace chimera {

void Module::visit(const ParamFn& on_param, const BufferFn& on_buffer, const std::string& prefix) {
  visit_own([&](const std::string& name, Var& p) { on_param(prefix + name, p); },
            [&](const std::string& name, Tensor& b) { on_buffer(prefix + name, b); });
  visit_children([&](const std::string& name, Module& child) {
    child.visit(on_param, on_buffer, prefix + name + ".");
  });
}

std::vector<Var> Module::parameters() {
  std::vector<Var> out;
  visit([&](const std::string&, Var& p) { out.push_back(p); }, [](const std::string&, Tensor&) {});
  return out;
}

std::map<std::string, Tensor> Module::state_dict() {
  std::map<std::string, Tensor> out;
  visit([&](const std::string& n, Var& p) { out[n] = p.value(); },
        [&](const std::string& n, Tensor& b) { out[n] = b; });
  return out;
}

static void copy_into(const std::string& name, Tensor& dst, const Tensor& src) {
  CHIMERA_CHECK(src.shape() == dst.shape(), "state dict entry '", name, "' has shape ",
                shape_str(src.shape()), " but the model expects ", shape_str(dst.shape()));
  dst.copy_from(src.dtype() == dst.dtype() ? src : src.to(dst.dtype()));
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state) {
  std::map<std::string, bool> used;
  for (const auto& [k, v] : state) used[k] = false;
  auto take = [&](const std::string& name, Tensor& dst) {
    auto it = state.find(name);
    CHIMERA_CHECK(it != state.end(), "state dict has no entry '", name, "'");
    copy_into(name, dst, it->second);
    used[name] = true;
  };
  visit([&](const std::string& n, Var& p) { take(n, p.value()); },
        [&](const std::string& n, Tensor& b) { take(n, b); });
  for (const auto& [k, u] : used) CHIMERA_CHECK(u, "unexpected state dict entry '", k, "'");
}

void Module::train(bool on) {
  training_ = on;
  visit_children([on](const std::string&, Module& child) { child.train(on); });
}

}  // namespace chimera
