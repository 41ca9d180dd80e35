// chimera.load_model: a checkpoint or an exported model file (ResNet-20 or the transformer
// language model, ours or GGUF), in eval mode, run on NumPy batches with the same forward as
// `chimera eval`, so the logits are the CLI's bit for bit.
#include <memory>

#include "harness/experiments/eval_checkpoint.h"
#include "harness/experiments/lm_inference.h"
#include "harness/python/bindings.h"
#include "model/models/resnet20_file.h"

namespace chimera::python {

namespace {

struct PyModel {
  std::unique_ptr<ChimeraResNet20> resnet;
  std::unique_ptr<TransformerLM> lm;
  std::unique_ptr<Tokenizer> tokenizer;  // a language model's vocabulary

  std::string kind() const { return resnet ? "resnet20" : "transformer_lm"; }

  const Tokenizer& vocabulary() const {
    if (!tokenizer) throw py::value_error("a ResNet-20 has no tokenizer");
    return *tokenizer;
  }

  py::array logits(const py::handle& input) {
    Tensor out;
    if (resnet) {
      const Tensor x = tensor_from(input, DType::f32, "x");
      if (x.dim() != 4)
        throw py::value_error("x: a ResNet-20 takes images [N, C, H, W], got shape " +
                              shape_str(x.shape()));
      py::gil_scoped_release release;
      NoGradGuard no_grad;
      out = resnet->forward(Var(x)).value();
    } else {
      Tensor ids = tensor_from(input, DType::i64, "ids");
      if (ids.dim() == 1) ids = ids.reshape({1, ids.numel()});
      if (ids.dim() != 2)
        throw py::value_error("ids: a language model takes token ids [T] or [B, T], got shape " +
                              shape_str(ids.shape()));
      {
        py::gil_scoped_release release;
        NoGradGuard no_grad;
        out = lm->forward(ids).value();
      }
      out = out.reshape({ids.size(0), ids.size(1), out.size(-1)});
    }
    return to_numpy(out);
  }
};

}  // namespace

void bind_models(py::module_& m) {
  py::class_<PyModel>(m, "Model", "A trained model in eval mode.")
      .def_property_readonly("kind", &PyModel::kind, "'resnet20' or 'transformer_lm'.")
      .def(
          "encode",
          [](const PyModel& p, const std::string& text, bool add_bos) {
            return p.vocabulary().encode(text, add_bos);
          },
          py::arg("text"), py::arg("add_bos") = false,
          "A language model's token ids of `text` (bytes for ours, the GGUF file's vocabulary\n"
          "otherwise); add_bos=True leads with the start-of-text token where the vocabulary has one.")
      .def(
          "decode",
          [](const PyModel& p, const std::vector<int64_t>& ids) {
            return py::bytes(p.vocabulary().decode(ids));
          },
          py::arg("ids"), "The bytes a language model's token ids stand for.")
      .def("__call__", &PyModel::logits, py::arg("x"),
           "Logits of one batch. ResNet-20: images float32 [N, C, H, W] -> [N, classes] (the\n"
           "batch is one batch as in `chimera eval`: quantized models take one activation scale\n"
           "per batch). Language model: token ids [T] or [B, T] -> [B, T, vocab].")
      .def(
          "stats",
          [](const PyModel& p) {
            const ModelStats s = p.resnet ? p.resnet->stats() : p.lm->stats();
            py::dict d = stats_dict({s.global_zero_ratio, s.global_plus_ratio,
                                     s.global_minus_ratio, s.global_effective_bits});
            return d;
          },
          "Shares of zeros, +1s and -1s over every ternary weight and their entropy (bits).");
  m.def(
      "load_model",
      [](const std::string& checkpoint, const std::string& model,
         std::optional<std::string> mode) {
        auto out = std::make_unique<PyModel>();
        py::gil_scoped_release release;
        if (checkpoint.empty() == model.empty())
          throw Error("load_model: pass exactly one of checkpoint= or model=");
        LanguageModel lm = load_lm_if_any(checkpoint, model);
        out->lm = std::move(lm.model);
        if (out->lm) out->tokenizer = std::move(lm.tokenizer);
        if (!out->lm) {
          if (!checkpoint.empty()) {
            out->resnet = model_from_checkpoint(load_checkpoint(checkpoint), mode);
          } else {
            const ModelFile file = read_model_file(model);
            try {
              out->resnet = resnet20_from_file(file);
            } catch (const Error& e) {
              throw Error("'" + model + "': " + e.what());
            }
          }
          out->resnet->eval();
        }
        return out;
      },
      py::arg("checkpoint") = "", py::arg("model") = "", py::arg("mode") = py::none(),
      "A model from a checkpoint (checkpoint=PATH: ours, or a PyTorch state dict; mode= when\n"
      "it does not record one) or a model file from `chimera export` (model=PATH, GGUF too).");
}

}  // namespace chimera::python
