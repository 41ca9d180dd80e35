#include "train/optim/optimizer.h"

#include <cmath>
#include <set>

namespace chimera {

Optimizer::Optimizer(std::vector<ParamGroup> groups, double lr, double weight_decay) {
  CHIMERA_CHECK(!groups.empty(), "an optimizer needs at least one parameter group");
  std::set<const Node*> seen;
  for (size_t g = 0; g < groups.size(); ++g) {
    Group group{std::move(groups[g].params), groups[g].lr.value_or(lr),
                groups[g].weight_decay.value_or(weight_decay)};
    CHIMERA_CHECK(group.lr >= 0, "parameter group ", g, ": lr must be >= 0, got ", group.lr);
    CHIMERA_CHECK(group.weight_decay >= 0, "parameter group ", g,
                  ": weight_decay must be >= 0, got ", group.weight_decay);
    for (size_t i = 0; i < group.params.size(); ++i) {
      const Var& p = group.params[i];
      CHIMERA_CHECK(p.defined() && p.value().defined(), "parameter group ", g, ": parameter ", i,
                    " is undefined");
      CHIMERA_CHECK(p.value().dtype() == DType::f32, "parameter group ", g, ": parameter ", i,
                    " holds ", dtype_name(p.value().dtype()), ", optimizers update f32 only");
      CHIMERA_CHECK(seen.insert(p.node()).second, "parameter group ", g, ": parameter ", i,
                    " appears more than once in the optimizer's groups");
    }
    groups_.push_back(std::move(group));
  }
  states_.resize(seen.size());
}

void Optimizer::zero_grad() {
  for (Group& group : groups_)
    for (Var& p : group.params) p.clear_grad();
}

void Optimizer::set_lr(double lr) {
  CHIMERA_CHECK(lr >= 0, "lr must be >= 0, got ", lr);
  for (Group& group : groups_) group.lr = lr;
}

void Optimizer::set_group_lr(int64_t group, double lr) {
  CHIMERA_CHECK(group >= 0 && group < static_cast<int64_t>(groups_.size()), "group index ", group,
                " out of range: the optimizer has ", groups_.size(), " groups");
  CHIMERA_CHECK(lr >= 0, "lr must be >= 0, got ", lr);
  groups_[static_cast<size_t>(group)].lr = lr;
}

double Optimizer::lr() const {
  return groups_.front().lr;
}

const ParamState* Optimizer::state(int64_t index) const {
  CHIMERA_CHECK(index >= 0 && index < num_params(), "parameter index ", index,
                " out of range: the optimizer holds ", num_params(), " parameters");
  return states_[index] ? &*states_[index] : nullptr;
}

ParamState& Optimizer::state_for(int64_t index, const Var& param) {
  const Tensor& grad = param.grad();
  CHIMERA_CHECK(grad.dtype() == DType::f32, "gradient of parameter ", index, " holds ",
                dtype_name(grad.dtype()), ", expected f32");
  CHIMERA_CHECK(grad.shape() == param.shape(), "gradient of parameter ", index, " has shape ",
                shape_str(grad.shape()), " but the parameter has ", shape_str(param.shape()));
  std::optional<ParamState>& state = states_[index];
  if (!state) {
    state.emplace();
    for (const StateSlot& slot : state_slots())
      state->tensors.emplace(slot.name, Tensor(param.shape(), slot.dtype));
  }
  return *state;
}

StateMemory Optimizer::state_memory() const {
  StateMemory memory;
  for (const std::optional<ParamState>& state : states_) {
    if (!state) continue;
    for (const auto& [name, tensor] : state->tensors) {
      const auto bytes = static_cast<int64_t>(tensor.nbytes());
      if (name == "m")
        memory.m += bytes;
      else if (name == "v")
        memory.v += bytes;
      else if (name == "psi")
        memory.psi += bytes;
      else
        memory.other += bytes;
    }
    memory.other += step_counter_bytes();
  }
  memory.total = memory.m + memory.v + memory.psi + memory.other;
  return memory;
}

static Tensor scalar_f64(double value) {
  Tensor t(Shape{}, DType::f64);
  t.data<double>()[0] = value;
  return t;
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> dict;
  for (size_t g = 0; g < groups_.size(); ++g) {
    dict["group." + std::to_string(g) + ".lr"] = scalar_f64(groups_[g].lr);
    dict["group." + std::to_string(g) + ".weight_decay"] = scalar_f64(groups_[g].weight_decay);
  }
  for (size_t i = 0; i < states_.size(); ++i) {
    if (!states_[i]) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    Tensor step(Shape{}, DType::i64);
    step.data<int64_t>()[0] = states_[i]->step;
    dict[prefix + "step"] = step;
    for (const auto& [name, tensor] : states_[i]->tensors) dict[prefix + name] = tensor.clone();
  }
  return dict;
}

namespace {

// A state-dict key split as "<kind>.<index>.<field>"; index -1 when the key has another form.
struct Key {
  std::string kind;
  int64_t index = -1;
  std::string field;
};

Key split_key(const std::string& key) {
  const size_t dot1 = key.find('.');
  const size_t dot2 = dot1 == std::string::npos ? dot1 : key.find('.', dot1 + 1);
  if (dot2 == std::string::npos || dot2 == dot1 + 1 || dot2 - dot1 > 10) return {};
  int64_t index = 0;
  for (size_t i = dot1 + 1; i < dot2; ++i) {
    if (key[i] < '0' || key[i] > '9') return {};
    index = index * 10 + (key[i] - '0');
  }
  return {key.substr(0, dot1), index, key.substr(dot2 + 1)};
}

double scalar_value(const std::string& key, const Tensor& t, DType dtype) {
  CHIMERA_CHECK(t.defined() && t.dtype() == dtype && t.dim() == 0, "optimizer state '", key,
                "' must be a 0-d ", dtype_name(dtype), " tensor");
  return t.item();
}

}  // namespace

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& dict) {
  std::vector<Group> groups = groups_;
  std::vector<std::optional<ParamState>> states(states_.size());
  std::vector<bool> has_step(states_.size(), false);
  const std::vector<StateSlot> slots = state_slots();
  std::vector<Shape> shapes;
  for (const Group& group : groups_)
    for (const Var& p : group.params) shapes.push_back(p.shape());

  std::set<std::string> group_keys;
  for (const auto& [key, tensor] : dict) {
    const Key k = split_key(key);
    if (k.kind == "group" && k.index >= 0) {
      CHIMERA_CHECK(k.index < static_cast<int64_t>(groups.size()), "optimizer state '", key,
                    "' names group ", k.index, " but the optimizer has ", groups.size());
      const double value = scalar_value(key, tensor, DType::f64);
      CHIMERA_CHECK(value >= 0, "optimizer state '", key, "' must be >= 0, got ", value);
      if (k.field == "lr")
        groups[k.index].lr = value;
      else if (k.field == "weight_decay")
        groups[k.index].weight_decay = value;
      else
        CHIMERA_FAIL("unknown optimizer state key '", key, "'");
      group_keys.insert(key);
      continue;
    }
    CHIMERA_CHECK(k.kind == "state" && k.index >= 0, "unknown optimizer state key '", key, "'");
    CHIMERA_CHECK(k.index < num_params(), "optimizer state '", key, "' names parameter ", k.index,
                  " but the optimizer holds ", num_params());
    std::optional<ParamState>& state = states[k.index];
    if (!state) state.emplace();
    if (k.field == "step") {
      const double step = scalar_value(key, tensor, DType::i64);
      CHIMERA_CHECK(step >= 0, "optimizer state '", key, "' must be >= 0, got ", step);
      state->step = static_cast<int64_t>(step);
      has_step[k.index] = true;
      continue;
    }
    const StateSlot* slot = nullptr;
    for (const StateSlot& s : slots)
      if (s.name == k.field) slot = &s;
    CHIMERA_CHECK(slot != nullptr, "unknown optimizer state key '", key, "' for ", name());
    CHIMERA_CHECK(
        tensor.defined() && tensor.dtype() == slot->dtype && tensor.shape() == shapes[k.index],
        "optimizer state '", key, "' must be ", dtype_name(slot->dtype), " ",
        shape_str(shapes[k.index]), ", got ",
        tensor.defined() ? dtype_name(tensor.dtype()) : "undefined", " ",
        shape_str(tensor.shape()));
    state->tensors[k.field] = tensor.clone();
  }
  for (size_t g = 0; g < groups.size(); ++g)
    for (const char* field : {".lr", ".weight_decay"})
      CHIMERA_CHECK(group_keys.count("group." + std::to_string(g) + field),
                    "optimizer state lacks 'group.", g, field, "'");
  for (size_t i = 0; i < states.size(); ++i) {
    if (!states[i]) continue;
    CHIMERA_CHECK(has_step[i], "optimizer state lacks 'state.", i, ".step'");
    for (const StateSlot& slot : slots)
      CHIMERA_CHECK(states[i]->tensors.count(slot.name), "optimizer state lacks 'state.", i, ".",
                    slot.name, "'");
  }
  groups_ = std::move(groups);
  states_ = std::move(states);
}

}  // namespace chimera
