// The minimal module protocol: named parameters and buffers (for state dicts with the
// reference's names), child modules, and the train/eval switch.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd.h"

namespace chimera {

class Module {
 public:
  virtual ~Module() = default;

  using ParamFn = std::function<void(const std::string& name, Var& param)>;
  using BufferFn = std::function<void(const std::string& name, Tensor& buffer)>;
  // Own parameters and buffers only; children are reached through visit_children.
  virtual void visit_own(const ParamFn& on_param, const BufferFn& on_buffer) {}
  using ChildFn = std::function<void(const std::string& name, Module& child)>;
  virtual void visit_children(const ChildFn& on_child) {}

  // Depth-first over this module and its children, names joined with '.'.
  void visit(const ParamFn& on_param, const BufferFn& on_buffer, const std::string& prefix = "");

  std::vector<Var> parameters();
  std::map<std::string, Tensor> state_dict();  // parameters and buffers, sharing storage
  // Copies values in. Every name must be present with the same shape; dtypes convert only
  // between numeric kinds as PyTorch would store them (an error names the key otherwise).
  void load_state_dict(const std::map<std::string, Tensor>& state);

  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

 private:
  bool training_ = true;
};

}  // namespace chimera
