// chimera.BitLinear and chimera.BitConv2d: the engine's layers (SPEC §2) with NumPy in and out.
// forward() runs the integer product (int8 activations x ternary weights in int32) and records
// what backward() needs; backward() returns the gradients of the input, weight and bias.
#include <memory>

#include "engine/rng.h"
#include "harness/python/bindings.h"
#include "model/layers/bit_conv2d.h"
#include "model/layers/bit_linear.h"

namespace chimera::python {

namespace {

BitLayerOptions layer_options(const std::string& mode, const std::string& stat_mode, double rho_s,
                              double alpha_min, double alpha_target, int64_t warmup_steps,
                              double eps_gamma, double eps_beta, std::optional<double> ste_clip,
                              std::optional<double> alpha_override,
                              const std::string& activation_grad,
                              const std::string& activation_scale) {
  BitLayerOptions o;
  o.quant_mode = parse_quant_mode(mode);
  o.stat_mode = parse_stat_mode(stat_mode);
  o.rho_s = rho_s;
  o.alpha_min = alpha_min;
  o.alpha_target = alpha_target;
  o.warmup_steps = warmup_steps;
  o.eps_gamma = eps_gamma;
  o.eps_beta = eps_beta;
  o.ste_clip = ste_clip;
  o.alpha_override = alpha_override;
  o.activation_grad = parse_activation_grad(activation_grad);
  o.activation_scale = parse_activation_scale(activation_scale);
  o.validate();
  return o;
}

// A layer and its last recorded forward.
template <class Layer>
struct PyLayer {
  std::unique_ptr<Layer> layer;
  Var x, y;

  py::array forward(const py::handle& input, bool record) {
    Tensor t = tensor_from(input, DType::f32, "x");
    if (!record) {
      NoGradGuard no_grad;
      x = y = Var();
      return to_numpy(layer->forward(Var(t)).value());
    }
    x = Var(t, true);
    y = layer->forward(x);
    return to_numpy(y.value());
  }

  py::dict backward(const py::handle& grad_out) {
    if (!y.defined())
      throw py::value_error("backward: no recorded forward (call forward(x) first; each forward "
                            "is back-propagated once)");
    Tensor g = tensor_from(grad_out, DType::f32, "grad_out");
    if (g.shape() != y.shape())
      throw py::value_error("backward: grad_out has shape " + shape_str(g.shape()) +
                            ", the output's is " + shape_str(y.shape()));
    for (Var& p : layer->parameters()) p.clear_grad();
    chimera::backward(y, g.clone());
    py::dict d;
    d["x"] = to_numpy(x.has_grad() ? x.grad() : Tensor::zeros_like(x.value()));
    d["weight_master"] = to_numpy(layer->weight_master.has_grad()
                                      ? layer->weight_master.grad()
                                      : Tensor::zeros_like(layer->weight_master.value()));
    if (layer->bias)
      d["bias"] = to_numpy(layer->bias->has_grad() ? layer->bias->grad()
                                                   : Tensor::zeros_like(layer->bias->value()));
    for (Var& p : layer->parameters()) p.clear_grad();
    x = y = Var();
    return d;
  }

  py::dict stats() const {
    const LayerStats s = layer->last_stats();
    py::dict d = stats_dict(s.ternary);
    d["gamma"] = s.gamma;
    d["alpha"] = s.alpha;
    d["weights"] = s.weights;
    d["flips"] = s.flips ? py::object(py::int_(*s.flips)) : py::object(py::none());
    return d;
  }
};

template <class Layer>
void common(py::class_<PyLayer<Layer>>& c) {
  using L = PyLayer<Layer>;
  c.def("forward", &L::forward, py::arg("x"), py::arg("record") = true,
        "y = layer(x) with the integer product. record=True keeps what backward() needs (a\n"
        "training-mode forward also moves scale_ema and counts a step, as in training);\n"
        "record=False is inference (eval mode: the fused, quantize-as-you-pack path).")
      .def("__call__", &L::forward, py::arg("x"), py::arg("record") = true)
      .def("backward", &L::backward, py::arg("grad_out"),
           "Back-propagates grad_out through the last recorded forward: {'x', 'weight_master',\n"
           "'bias'} gradients (straight-through as the layer's activation_grad says).")
      .def("train", [](L& l, bool on) { l.layer->train(on); }, py::arg("mode") = true)
      .def("eval", [](L& l) { l.layer->eval(); })
      .def_property_readonly("training", [](const L& l) { return l.layer->training(); })
      .def_property_readonly(
          "weight_master", [](L& l) { return to_numpy(l.layer->weight_master.value()); },
          "The float master weight (a view: writing it changes the layer).")
      .def_property_readonly(
          "bias",
          [](L& l) -> py::object {
            if (!l.layer->bias) return py::none();
            return to_numpy(l.layer->bias->value());
          },
          "The bias (a view) or None.")
      .def_property_readonly("scale_ema",
                             [](const L& l) { return l.layer->quant.scale_ema.item(); })
      .def_property_readonly("forward_step", [](const L& l) {
        return static_cast<int64_t>(l.layer->quant.forward_step.item());
      })
      .def(
          "state_dict", [](L& l) { return to_numpy(l.layer->state_dict()); },
          "weight_master, bias, scale_ema, forward_step (views).")
      .def(
          "load_state_dict",
          [](L& l, const py::dict& d) { l.layer->load_state_dict(tensors_from(d, "state")); },
          py::arg("state"), "Copies the values in; every name must be present with its shape.")
      .def("stats", &L::stats,
           "The last forward's weight: gamma, alpha, zero/plus/minus ratios, effective_bits,\n"
           "weights, flips (codes changed since the previous training forward, or None).");
}

#define CHIMERA_LAYER_ARGS                                                                    \
  py::arg("mode") = "chimera", py::arg("stat_mode") = "mean", py::arg("rho_s") = 0.95,        \
  py::arg("alpha_min") = 0.0, py::arg("alpha_target") = 0.7, py::arg("warmup_steps") = 100,   \
  py::arg("eps_gamma") = 1e-6, py::arg("eps_beta") = 1e-6, py::arg("ste_clip") = 1.0,         \
  py::arg("alpha_override") = py::none(), py::arg("activation_grad") = "ste",                 \
  py::arg("activation_scale") = "tensor"

const char* kOptionsDoc =
    "Options (SPEC §2): mode 'chimera' | 'strict_bitnet', stat_mode 'mean' | 'median', rho_s,\n"
    "alpha_min, alpha_target, warmup_steps, eps_gamma, eps_beta, ste_clip (None: no clip),\n"
    "alpha_override, activation_grad 'ste' | 'none', activation_scale 'tensor' | 'token'.\n"
    "Weights are drawn as torch.nn's from an Rng(seed).";

}  // namespace

void bind_layers(py::module_& m) {
  py::class_<PyLayer<BitLinear>> linear(m, "BitLinear",
                                        "BitLinear: y = (beta * gamma) * (x_q . q^T) + bias.");
  linear.def(py::init([](int64_t in_features, int64_t out_features, bool bias, uint64_t seed,
                         const std::string& mode, const std::string& stat_mode, double rho_s,
                         double alpha_min, double alpha_target, int64_t warmup_steps,
                         double eps_gamma, double eps_beta, std::optional<double> ste_clip,
                         std::optional<double> alpha_override, const std::string& activation_grad,
                         const std::string& activation_scale) {
                Rng rng(seed);
                auto l = std::make_unique<PyLayer<BitLinear>>();
                l->layer = std::make_unique<BitLinear>(
                    in_features, out_features, bias,
                    layer_options(mode, stat_mode, rho_s, alpha_min, alpha_target, warmup_steps,
                                  eps_gamma, eps_beta, ste_clip, alpha_override, activation_grad,
                                  activation_scale),
                    rng);
                return l;
              }),
              py::arg("in_features"), py::arg("out_features"), py::arg("bias") = true,
              py::arg("seed") = 0, CHIMERA_LAYER_ARGS, kOptionsDoc);
  common(linear);

  py::class_<PyLayer<BitConv2d>> conv(m, "BitConv2d",
                                      "BitConv2d: the convolution counterpart of BitLinear, NCHW.");
  conv.def(py::init([](int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                       int64_t stride, int64_t padding, int64_t dilation, int64_t groups, bool bias,
                       uint64_t seed, const std::string& mode, const std::string& stat_mode,
                       double rho_s, double alpha_min, double alpha_target, int64_t warmup_steps,
                       double eps_gamma, double eps_beta, std::optional<double> ste_clip,
                       std::optional<double> alpha_override, const std::string& activation_grad,
                       const std::string& activation_scale) {
              Conv2dParams p;
              p.stride_h = p.stride_w = stride;
              p.pad_h = p.pad_w = padding;
              p.dil_h = p.dil_w = dilation;
              p.groups = groups;
              Rng rng(seed);
              auto l = std::make_unique<PyLayer<BitConv2d>>();
              l->layer = std::make_unique<BitConv2d>(
                  in_channels, out_channels, kernel_size, p, bias,
                  layer_options(mode, stat_mode, rho_s, alpha_min, alpha_target, warmup_steps,
                                eps_gamma, eps_beta, ste_clip, alpha_override, activation_grad,
                                activation_scale),
                  rng);
              return l;
            }),
            py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"),
            py::arg("stride") = 1, py::arg("padding") = 0, py::arg("dilation") = 1,
            py::arg("groups") = 1, py::arg("bias") = true, py::arg("seed") = 0, CHIMERA_LAYER_ARGS,
            kOptionsDoc);
  common(conv);
}

}  // namespace chimera::python
