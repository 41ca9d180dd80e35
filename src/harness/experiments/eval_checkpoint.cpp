#include "harness/experiments/eval_checkpoint.h"

#include <chrono>

#include "harness/experiments/config.h"
#include "model/layers/init.h"
#include "model/models/resnet20_file.h"
#include "train/data/cifar_loader.h"
#include "train/data/dataset_choice.h"
#include "train/data/fashion_mnist.h"
#include "train/data/smoke_data.h"
#include "train/trainer/evaluate.h"

namespace chimera {

std::unique_ptr<ChimeraResNet20> model_from_checkpoint(const Checkpoint& c,
                                                       const std::optional<std::string>& mode) {
  CHIMERA_CHECK(c.metadata.value("model_type", "") != "transformer_lm",
                "the checkpoint holds a language model (model_type transformer_lm), not a "
                "ResNet-20");
  ResNet20Options options;
  bool ternary = false;
  for (const auto& [name, t] : c.model)
    if (name.size() > 14 && name.compare(name.size() - 14, 14, ".weight_master") == 0) ternary = true;
  const nlohmann::json* args =
      c.metadata.contains("arguments") ? &c.metadata.at("arguments") : nullptr;
  std::string mode_name = ternary ? "chimera" : "fp32_baseline";
  if (args && args->contains("mode")) mode_name = args->at("mode").get<std::string>();
  if (mode) mode_name = *mode;
  try {
    options.mode = parse_model_mode(mode_name);
  } catch (const Error& e) {
    CHIMERA_FAIL("--mode: ", e.what());
  }
  CHIMERA_CHECK((options.mode != ModelMode::fp32_baseline) == ternary, "the checkpoint holds ",
                ternary ? "ternary" : "float", " layers but the mode is ", mode_name,
                " (pass the right --mode)");
  options.first_last_fp32 = ternary && c.model.count("conv1.weight") != 0;
  // The stem's weight [16, in_channels, 3, 3] says which images the model was built for.
  for (const char* stem : {"conv1.weight", "conv1.weight_master"})
    if (const auto it = c.model.find(stem); it != c.model.end() && it->second.dim() == 4)
      options.in_channels = it->second.size(1);
  // The quantizer settings of the run (warm-up, alphas, eps, clip) decide the eval forward too.
  if (c.metadata.contains("config"))
    options.layer = parse_config(c.metadata.at("config").dump(), "checkpoint config metadata").layer;
  DeferredInit deferred;  // every value is overwritten by the checkpoint: draw none
  Rng rng(0);
  auto model = std::make_unique<ChimeraResNet20>(options, rng);
  model->load_state_dict(c.model);
  if (c.metadata.contains("trainer_state"))
    restore_alpha_state(model->quantized_layers(), c.metadata.at("trainer_state"));
  return model;
}

// The smoke data's test images follow its training images in one random stream, so the set a
// training run evaluated on is rebuilt from that run's recorded sizes and seed when present.
static Dataset synthetic_test_set(const Json& arguments, const EvalArgs& a) {
  int64_t train_batch = a.batch_size.value_or(128), train_batches = 1, seed = a.seed;
  int64_t eval_batch = train_batch, eval_batches = std::max<int64_t>(a.max_batches, 1);
  if (arguments.is_object()) {
    const Json& r = arguments;
    train_batch = r.value("batch_size", train_batch);
    train_batches = r.value("max_batches", train_batches);
    eval_batch = a.batch_size.value_or(r.value("eval_batch_size", eval_batch));
    eval_batches = r.value("eval_max_batches", eval_batches);
    seed = r.value("seed", seed);
  }
  return synthetic_cifar(train_batch, train_batches, eval_batch, eval_batches,
                         static_cast<uint64_t>(seed))
      .test;
}

Json eval_checkpoint(const EvalArgs& a, double* eval_seconds) {
  CHIMERA_CHECK(!(a.synthetic && !a.dataset_root.empty()),
                "pass one of --dataset-root DIR or --synthetic, not both");
  CHIMERA_CHECK(a.batch_size.value_or(1) > 0, "--batch-size must be positive, got ",
                a.batch_size.value_or(0));
  CHIMERA_CHECK(a.max_batches >= 0, "--max-batches must be >= 0, got ", a.max_batches);
  CHIMERA_CHECK(a.checkpoint.empty() != a.model.empty(),
                "pass exactly one of --checkpoint CKPT or --model MODEL");
  CHIMERA_CHECK(a.model.empty() || !a.mode,
                "--mode applies to --checkpoint only: a model file records its mode");
  std::unique_ptr<ChimeraResNet20> model;
  Json arguments;  // the training run's, when recorded
  if (!a.checkpoint.empty()) {
    const Checkpoint c = load_checkpoint(a.checkpoint);
    model = model_from_checkpoint(c, a.mode);
    if (a.alpha_override) model->set_alpha_override(*a.alpha_override);
    if (c.metadata.contains("arguments")) arguments = c.metadata.at("arguments");
  } else {
    const ModelFile file = read_model_file(a.model);
    try {
      model = resnet20_from_file(file);
    } catch (const Error& e) {
      CHIMERA_FAIL("'", a.model, "': ", e.what());
    }
    arguments = file.description.value("arguments", Json());
  }
  int64_t batch_size = a.batch_size.value_or(128);
  if (!a.batch_size && arguments.is_object())
    batch_size = arguments.value("eval_batch_size", batch_size);
  DatasetKind kind = DatasetKind::cifar10;
  if (a.synthetic) {
    kind = DatasetKind::synthetic;
  } else if (a.dataset) {
    try {
      kind = parse_dataset_kind(*a.dataset);
    } catch (const Error& e) {
      CHIMERA_FAIL("--dataset: ", e.what());
    }
  } else if (arguments.is_object() && arguments.contains("dataset")) {
    // The run's own dataset; a folder given for a run on the smoke data means CIFAR-10 files.
    kind = parse_dataset_kind(arguments.at("dataset").get<std::string>());
    if (kind == DatasetKind::synthetic && !a.dataset_root.empty()) kind = DatasetKind::cifar10;
  } else {
    CHIMERA_CHECK(!a.dataset_root.empty(), "the run does not record its dataset: pass ",
                  "--dataset NAME, --dataset-root DIR (CIFAR-10) or --synthetic");
  }
  CHIMERA_CHECK(model->options().in_channels == dataset_channels(kind), "the model takes ",
                model->options().in_channels, "-channel images, ", dataset_kind_name(kind),
                " has ", dataset_channels(kind), " (pass the --dataset it was trained on)");
  const std::string root = a.dataset_root.empty() ? default_dataset_root(kind) : a.dataset_root;
  Dataset test;
  switch (kind) {
    case DatasetKind::synthetic:
      test = synthetic_test_set(arguments, a);
      break;
    case DatasetKind::fashion_mnist:
      test = load_fashion_mnist(root).test;
      break;
    case DatasetKind::cifar10:
      test = load_cifar(root).test;
      break;
  }
  const auto start = std::chrono::steady_clock::now();
  const EvalResult r = evaluate(*model, test, batch_size, a.max_batches);
  if (eval_seconds)
    *eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"test_loss", r.loss}, {"test_accuracy", r.accuracy}, {"examples", r.examples}};
}

}  // namespace chimera
