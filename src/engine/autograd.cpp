#include "engine/autograd.h"

#include <unordered_set>

#include "engine/kernels/elementwise_f32.h"
#include "engine/threads.h"

namespace chimera {

static thread_local bool t_grad_enabled = true;

bool grad_enabled() { return t_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

Var::Var(Tensor value, bool requires_grad) : node_(std::make_shared<Node>()) {
  node_->value = std::move(value);
  node_->requires_grad = requires_grad;
}

const Tensor& Var::value() const {
  CHIMERA_CHECK(node_, "use of an undefined Var");
  return node_->value;
}
Tensor& Var::value() {
  CHIMERA_CHECK(node_, "use of an undefined Var");
  return node_->value;
}
bool Var::requires_grad() const { return node_ && node_->requires_grad; }
const Tensor& Var::grad() const {
  CHIMERA_CHECK(node_, "use of an undefined Var");
  return node_->grad;
}
Tensor& Var::grad() {
  CHIMERA_CHECK(node_, "use of an undefined Var");
  return node_->grad;
}
void Var::clear_grad() {
  if (node_) node_->grad = Tensor();
}

Var make_op(const char* op, Tensor value, const std::vector<Var>& inputs, BackwardFn backward) {
  Var out(std::move(value));
  if (!t_grad_enabled) return out;
  bool any = false;
  for (const Var& v : inputs) any = any || v.requires_grad();
  if (!any) return out;
  Node* n = out.node();
  n->requires_grad = true;
  n->op = op;
  n->backward = std::move(backward);
  n->inputs.reserve(inputs.size());
  for (const Var& v : inputs)
    if (v.requires_grad()) n->inputs.push_back(v.shared());
  return out;
}

void add_grad(const Var& v, const Tensor& g) {
  if (!v.requires_grad()) return;
  Node* n = v.node();
  check_same_shape(n->value, g, "gradient accumulation");
  if (!n->grad.defined()) {
    n->grad = g.unique() ? g : g.clone();
    return;
  }
  const float* src = g.f32();
  float* dst = n->grad.f32();
  for_blocks(g.numel(), [&](int64_t b, int64_t e) { axpy_f32(e - b, 1.0f, src + b, dst + b); });
}

// Holds shared pointers: releasing a node's closure during backward may drop the last other
// reference to one of its inputs, which must stay alive until its own turn.
static std::vector<std::shared_ptr<Node>> topo_order(const std::shared_ptr<Node>& root) {
  // Iterative post-order DFS: deep ResNet graphs would overflow a recursive one.
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      std::shared_ptr<Node> child = node->inputs[next++];
      if (child->requires_grad && seen.insert(child.get()).second) stack.push_back({child, 0});
    } else {
      order.push_back(std::move(node));
      stack.pop_back();
    }
  }
  return order;  // inputs before the nodes that use them
}

void backward(const Var& root, const Tensor& seed) {
  CHIMERA_CHECK(root.requires_grad(),
                "backward(): the root does not depend on anything that requires a gradient");
  add_grad(root, seed);
  const std::vector<std::shared_ptr<Node>> order = topo_order(root.shared());
  NoGradGuard no_grad;  // gradient arithmetic is never itself recorded
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = it->get();
    if (!n->backward) continue;  // a leaf keeps its gradient
    if (n->grad.defined()) n->backward(n->grad);
    n->backward = nullptr;
    n->inputs.clear();
    n->grad = Tensor();
  }
}

void backward(const Var& root) {
  CHIMERA_CHECK(root.numel() == 1, "backward() without a seed needs a one-element root, got ",
                shape_str(root.shape()));
  backward(root, Tensor::full(root.shape(), 1.0f));
}

}  // namespace chimera
