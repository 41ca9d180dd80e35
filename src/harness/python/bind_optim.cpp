// chimera.Chimera21, Adam, AdamW and SGD over NumPy parameters, updated in place: each
// parameter array is the optimizer's parameter memory (no copy), each step's gradients are read
// where they lie. The float32 operations are the engine's, so trajectories equal the CLI's and
// the reference's golden files.
#include <functional>
#include <memory>
#include <sstream>

#include "harness/python/bindings.h"
#include "train/optim/adam.h"
#include "train/optim/chimera21.h"
#include "train/optim/sgd.h"

namespace chimera::python {

namespace {

using Setters = std::map<std::string, std::function<void(const py::handle&)>>;

template <class T>
std::function<void(const py::handle&)> set(T& field) {
  return [&field](const py::handle& v) { field = v.cast<T>(); };
}

// Applies keyword options; an unknown name is a TypeError listing the known ones.
void apply(const py::kwargs& kwargs, const Setters& setters, const std::string& optimizer) {
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::str(key);
    const auto it = setters.find(name);
    if (it == setters.end()) {
      std::ostringstream known;
      for (const auto& [k, s] : setters) known << (known.tellp() ? ", " : "") << k;
      throw py::type_error(optimizer + ": unknown option '" + name + "' (options: " + known.str() +
                           ")");
    }
    try {
      it->second(value);
    } catch (const py::cast_error&) {
      throw py::type_error(optimizer + ": option '" + name + "' has the wrong type (" +
                           std::string(py::str(py::type::of(value).attr("__name__"))) + ")");
    }
  }
}

// The optimizer with its parameters: Vars over the caller's arrays.
struct PyOptimizer {
  std::unique_ptr<Optimizer> opt;
  std::vector<Var> params;
  py::list arrays;  // the caller's arrays, in order

  void step(const py::sequence& grads) {
    if (py::len(grads) != params.size())
      throw py::value_error("step: " + std::to_string(py::len(grads)) + " gradients for " +
                            std::to_string(params.size()) + " parameters");
    for (size_t i = 0; i < params.size(); ++i) {
      const py::handle g = grads[i];
      if (g.is_none()) {
        params[i].clear_grad();
        continue;
      }
      const std::string what = "gradient " + std::to_string(i);
      Tensor t = tensor_from(g, DType::f32, what);
      if (t.shape() != params[i].shape())
        throw py::value_error(what + ": shape " + shape_str(t.shape()) + ", the parameter's is " +
                              shape_str(params[i].shape()));
      params[i].grad() = t;
    }
    try {
      opt->step();
    } catch (...) {
      for (Var& p : params) p.clear_grad();
      throw;
    }
    for (Var& p : params) p.clear_grad();  // drop the references to the caller's arrays
  }
};

// params: a list of arrays, or of dicts {"params": [arrays], "lr": x, "weight_decay": y}.
std::vector<ParamGroup> groups_from(const py::sequence& params, PyOptimizer& out) {
  std::vector<ParamGroup> groups;
  auto add_param = [&](ParamGroup& group, const py::handle& a) {
    const std::string what = "parameter " + std::to_string(out.params.size());
    Var v(writable_f32(a, what), true);
    group.params.push_back(v);
    out.params.push_back(v);
    out.arrays.append(a);
  };
  bool dicts = false, arrays = false;
  for (const py::handle item : params) {
    if (py::isinstance<py::dict>(item)) {
      dicts = true;
      const py::dict d = py::reinterpret_borrow<py::dict>(item);
      for (const auto& [k, v] : d) {
        const std::string key = py::str(k);
        if (key != "params" && key != "lr" && key != "weight_decay")
          throw py::type_error("parameter group: unknown key '" + key +
                               "' (keys: params, lr, weight_decay)");
      }
      if (!d.contains("params")) throw py::type_error("parameter group without 'params'");
      ParamGroup group;
      for (const py::handle a : d["params"]) add_param(group, a);
      if (d.contains("lr")) group.lr = d["lr"].cast<double>();
      if (d.contains("weight_decay")) group.weight_decay = d["weight_decay"].cast<double>();
      groups.push_back(std::move(group));
    } else {
      arrays = true;
      if (groups.empty()) groups.emplace_back();
      add_param(groups.back(), item);
    }
  }
  if (dicts && arrays)
    throw py::type_error("params: either arrays or parameter-group dicts, not both");
  if (out.params.empty()) throw py::value_error("params: no parameters given");
  return groups;
}

Setters chimera21_setters(Chimera21Options& o) {
  return {{"lr", set(o.lr)},
          {"beta1", set(o.beta1)},
          {"beta2", set(o.beta2)},
          {"eps_opt", set(o.eps_opt)},
          {"weight_decay", set(o.weight_decay)},
          {"rho_psi", set(o.rho_psi)},
          {"lambda_gate", set(o.lambda_gate)},
          {"kappa_min", set(o.kappa_min)},
          {"kappa_max", set(o.kappa_max)},
          {"log_diagnostics", set(o.log_diagnostics)},
          {"zero_grad_policy",
           [&o](const py::handle& v) { o.zero_grad_policy = parse_zero_grad_policy(v.cast<std::string>()); }},
          {"idle_decay", set(o.idle_decay)},
          {"kappa_gate_mode",
           [&o](const py::handle& v) { o.kappa_gate_mode = parse_kappa_gate_mode(v.cast<std::string>()); }},
          {"noise_threshold", set(o.noise_threshold)},
          {"gate_sharpness", set(o.gate_sharpness)},
          {"psi_storage",
           [&o](const py::handle& v) { o.psi_storage = parse_psi_storage(v.cast<std::string>()); }}};
}

Setters adam_setters(AdamOptions& o) {
  return {{"lr", set(o.lr)}, {"beta1", set(o.beta1)}, {"beta2", set(o.beta2)},
          {"eps", set(o.eps)}, {"weight_decay", set(o.weight_decay)}};
}

Setters sgd_setters(SgdOptions& o) {
  return {{"lr", set(o.lr)}, {"momentum", set(o.momentum)}, {"dampening", set(o.dampening)},
          {"weight_decay", set(o.weight_decay)}, {"nesterov", set(o.nesterov)}};
}

// chimera.<name>(params, **options): Opt over the caller's arrays, its options from the
// keywords (an unknown one is a TypeError naming the known ones).
template <class Opt, class Options>
void def_optimizer(py::module_& m, const char* name, Options defaults,
                   Setters (*setters)(Options&), const char* doc) {
  m.def(
      name,
      [=](const py::sequence& params, const py::kwargs& kwargs) {
        Options options = defaults;
        apply(kwargs, setters(options), name);
        auto out = std::make_unique<PyOptimizer>();
        std::vector<ParamGroup> groups = groups_from(params, *out);
        out->opt = std::make_unique<Opt>(std::move(groups), options);
        return out;
      },
      py::arg("params"), doc);
}

const char* kStepDoc =
    "step(grads): one step. grads: one array per parameter, in order (None: that parameter has\n"
    "no gradient this step and is skipped, as torch skips p.grad None). Parameters are updated\n"
    "in place.";

}  // namespace

void bind_optim(py::module_& m) {
  py::class_<PyOptimizer>(m, "Optimizer",
                          "Base of the optimizers: parameters are float32 C-contiguous NumPy "
                          "arrays updated in place.")
      .def("step", &PyOptimizer::step, py::arg("grads"), kStepDoc)
      .def_property_readonly("name", [](const PyOptimizer& o) { return o.opt->name(); })
      .def_property_readonly("params", [](const PyOptimizer& o) { return o.arrays; },
                             "The parameter arrays (the caller's own).")
      .def_property(
          "lr", [](const PyOptimizer& o) { return o.opt->lr(); },
          [](PyOptimizer& o, double lr) { o.opt->set_lr(lr); },
          "The first group's learning rate; setting it sets every group's.")
      .def(
          "set_group_lr", [](PyOptimizer& o, int64_t group, double lr) { o.opt->set_group_lr(group, lr); },
          py::arg("group"), py::arg("lr"), "One group's learning rate (a schedule per group).")
      .def(
          "group_lrs",
          [](const PyOptimizer& o) {
            std::vector<double> lrs;
            for (const auto& g : o.opt->groups()) lrs.push_back(g.lr);
            return lrs;
          },
          "Every group's learning rate.")
      .def(
          "state",
          [](const PyOptimizer& o, int64_t index) -> py::object {
            const ParamState* s = o.opt->state(index);
            if (!s) return py::none();
            py::dict d;
            d["step"] = s->step;
            for (const auto& [name, t] : s->tensors) d[py::str(name)] = to_numpy(t.clone());
            return d;
          },
          py::arg("index"),
          "Parameter `index`'s state as copies: {'step': n, 'm': ..., 'v': ..., ...}; None\n"
          "before its first step with a gradient.")
      .def(
          "state_memory",
          [](const PyOptimizer& o) {
            const StateMemory s = o.opt->state_memory();
            py::dict d;
            d["m"] = s.m;
            d["v"] = s.v;
            d["psi"] = s.psi;
            d["other"] = s.other;
            d["total"] = s.total;
            return d;
          },
          "Bytes of optimizer state: {'m', 'v', 'psi', 'other', 'total'}.")
      .def(
          "state_dict", [](const PyOptimizer& o) { return to_numpy(o.opt->state_dict()); },
          "The state as a dict of arrays (copies): what a checkpoint stores.")
      .def(
          "load_state_dict",
          [](PyOptimizer& o, const py::dict& d) { o.opt->load_state_dict(tensors_from(d, "state")); },
          py::arg("state"), "Replaces every state tensor and each group's lr and weight decay.")
      .def(
          "diagnostics",
          [](const PyOptimizer& o) {
            py::dict d;
            if (const auto* c = dynamic_cast<const Chimera21*>(o.opt.get()))
              for (const auto& [k, v] : c->last_diagnostics()) d[py::str(k)] = v;
            return d;
          },
          "Chimera21 with log_diagnostics=True: the last step's diagnostics in SPEC order\n"
          "(mean_kappa, ..., collision_score); else an empty dict.");

  def_optimizer<Chimera21>(
      m, "Chimera21", Chimera21Options{}, chimera21_setters,
      "Chimera21(params, lr=1e-3, beta1=0.9, beta2=0.999, eps_opt=1e-8, weight_decay=0.0,\n"
      "          rho_psi=0.95, lambda_gate=0.1, kappa_min=0.5, kappa_max=2.0,\n"
      "          log_diagnostics=False, zero_grad_policy='standard'|'freeze'|'decay'|'inertia',\n"
      "          idle_decay=0.95, kappa_gate_mode='none'|'noise_ratio', noise_threshold=2.0,\n"
      "          gate_sharpness=4.0, psi_storage='fp32'|'int8')\n"
      "Adam scaled per element by kappa = clamp(exp(lambda_gate * psi)), psi the running\n"
      "agreement of sign(m) and sign(g) (SPEC §3). params: float32 arrays, or parameter-group\n"
      "dicts {'params': [...], 'lr': ..., 'weight_decay': ...}.");
  def_optimizer<Adam>(
      m, "Adam", AdamOptions{}, adam_setters,
      "Adam(params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0): torch.optim.Adam's\n"
      "float32 operations (L2 weight decay added to the gradient).");
  def_optimizer<AdamW>(
      m, "AdamW", AdamW::defaults(), adam_setters,
      "AdamW(params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2): decoupled\n"
      "weight decay, as torch.optim.AdamW.");
  def_optimizer<Sgd>(
      m, "SGD", SgdOptions{}, sgd_setters,
      "SGD(params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False): as\n"
      "torch.optim.SGD.");
}

}  // namespace chimera::python
