// A small define-by-run reverse-mode autograd. A Var is a handle to a Node holding a value,
// an optional gradient and the closure that sends the gradient to the node's inputs.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace chimera {

struct Node;

class Var {
 public:
  Var() = default;
  explicit Var(Tensor value, bool requires_grad = false);

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const;
  Tensor& value();
  const Shape& shape() const { return value().shape(); }
  int64_t numel() const { return value().numel(); }
  bool requires_grad() const;

  // The accumulated gradient; undefined until a backward pass reaches this Var.
  const Tensor& grad() const;
  Tensor& grad();
  bool has_grad() const { return grad().defined(); }
  void clear_grad();  // back to "no gradient" (what optimizers skip)

  Node* node() const { return node_.get(); }
  const std::shared_ptr<Node>& shared() const { return node_; }

 private:
  std::shared_ptr<Node> node_;
};

// Receives the gradient of the op's output; adds gradients into its inputs with add_grad.
using BackwardFn = std::function<void(const Tensor& grad_out)>;

struct Node {
  Tensor value;
  Tensor grad;
  bool requires_grad = false;
  const char* op = "leaf";
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn backward;
};

// Builds an op result. The backward closure is kept only when gradients are enabled and some
// input requires one; otherwise the result is a constant and the graph is not recorded.
Var make_op(const char* op, Tensor value, const std::vector<Var>& inputs, BackwardFn backward);

bool grad_enabled();

// The same for an op's inputs written in braces, `make_op("add", y, {a, b}, [a, b](...) {...})`:
// with gradients disabled neither the inputs' vector nor the std::function holding the closure
// is made. A generated token runs some 80 ops, and those two heap allocations per op were most of
// its malloc calls.
template <class F>
Var make_op(const char* op, Tensor value, std::initializer_list<Var> inputs, F&& backward) {
  if (!grad_enabled()) return Var(std::move(value));
  return make_op(op, std::move(value), std::vector<Var>(inputs),
                 BackwardFn(std::forward<F>(backward)));
}

// grad(v) += g. Takes g's storage over when nothing else shares it and v has no gradient yet.
// Does nothing when v does not require a gradient.
void add_grad(const Var& v, const Tensor& g);

// Runs the backward pass from a one-element root (seeded with 1) or with an explicit seed.
// Frees the recorded graph as it goes, like PyTorch without retain_graph.
void backward(const Var& root);
void backward(const Var& root, const Tensor& seed);

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace chimera
