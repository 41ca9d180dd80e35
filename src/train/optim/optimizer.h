// The optimizer interface shared by Chimera21, Adam, AdamW and SGD (SPEC §3): parameter groups,
// lazily created per-parameter state, learning-rate control for schedules, state memory
// accounting, and a state dict for checkpoints that lets a loaded optimizer continue
// bit-identically.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/tensor.h"

namespace chimera {

// What a caller hands in: the parameters of one group and, optionally, the group's own learning
// rate and weight decay (unset: the optimizer's options).
struct ParamGroup {
  std::vector<Var> params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

// Bytes of optimizer state, summed over parameters. Moments count as m and v for every
// optimizer; psi is Chimera21's agreement trace; everything else (SGD's momentum buffer, Adam's
// float32 step counter) counts as other.
struct StateMemory {
  int64_t m = 0;
  int64_t v = 0;
  int64_t psi = 0;
  int64_t other = 0;
  int64_t total = 0;
};

// One parameter's state: the number of steps it has taken and its named tensors, each shaped
// like the parameter.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> tensors;
};

class Optimizer {
 public:
  struct Group {
    std::vector<Var> params;
    double lr;
    double weight_decay;
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual std::string name() const = 0;
  // Updates every parameter that has a gradient; parameters without one are skipped and get no
  // state.
  virtual void step() = 0;
  void zero_grad();  // every parameter back to "no gradient"

  void set_lr(double lr);  // every group
  void set_group_lr(int64_t group, double lr);  // one group (a schedule per group, as in torch)
  double lr() const;       // the first group's
  const std::vector<Group>& groups() const { return groups_; }
  int64_t num_params() const { return static_cast<int64_t>(states_.size()); }
  // The state of parameter `index` (counted over all groups in order); null before its first
  // step with a gradient.
  const ParamState* state(int64_t index) const;

  virtual StateMemory state_memory() const;

  // "state.<param index>.step" (0-d i64), "state.<param index>.<tensor>" for each state tensor,
  // "group.<group index>.lr" and "group.<group index>.weight_decay" (0-d f64). Copies, so
  // later steps do not change a saved dict.
  std::map<std::string, Tensor> state_dict() const;
  // Replaces all state and the groups' lr/weight_decay with the dict's; checks every key, shape
  // and dtype first and changes nothing when one is wrong.
  void load_state_dict(const std::map<std::string, Tensor>& dict);

 protected:
  struct StateSlot {
    std::string name;
    DType dtype;
  };

  Optimizer(std::vector<ParamGroup> groups, double lr, double weight_decay);

  // The tensors each parameter's state holds, created as zeros at its first step.
  virtual std::vector<StateSlot> state_slots() const = 0;
  // Bytes a step counter occupies per parameter (torch's Adam keeps a float32 tensor).
  virtual int64_t step_counter_bytes() const { return 0; }

  // Calls fn(group, param, state, index) for every parameter that has a gradient, after
  // checking the gradient and creating the state on first use.
  template <class Fn>
  void for_each_param_with_grad(Fn&& fn) {
    int64_t index = 0;
    for (Group& group : groups_) {
      for (Var& param : group.params) {
        if (param.has_grad()) fn(group, param, state_for(index, param), index);
        ++index;
      }
    }
  }

 private:
  ParamState& state_for(int64_t index, const Var& param);

  std::vector<Group> groups_;
  std::vector<std::optional<ParamState>> states_;
};

}  // namespace chimera
