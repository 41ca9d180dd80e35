#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/eval_checkpoint.h"
#include "harness/experiments/lm_inference.h"
#include "harness/log/py_format.h"

namespace chimera {

static void register_eval(CLI::App& app) {
  struct Args {
    EvalArgs eval;
    int threads = 0;
    bool json = false;
    std::string corpus = kFortunesDir;
    int64_t max_windows = 0;
  };
  static Args a;
  a = Args{};
  auto* cmd =
      app.add_subcommand("eval", "evaluate a checkpoint or an exported model on the test split");
  cmd->add_option("--checkpoint", a.eval.checkpoint, "a checkpoint or a state dict in safetensors");
  cmd->add_option("--model", a.eval.model, "a model file from `chimera export`");
  cmd->add_option("--dataset", a.eval.dataset,
                  "cifar10 | fashion-mnist | synthetic (default: the run's recorded dataset)");
  cmd->add_option("--dataset-root", a.eval.dataset_root,
                  "folder with the data (default: the dataset's usual place)");
  cmd->add_flag("--synthetic", a.eval.synthetic, "the reference's Gaussian smoke data");
  cmd->add_option("--batch-size", a.eval.batch_size,
                  "default: the run's eval batch size if recorded, else 128");
  cmd->add_option("--max-batches", a.eval.max_batches, "cap on batches (0 = all)")
      ->capture_default_str();
  cmd->add_option("--seed", a.eval.seed, "seed of the --synthetic data")->capture_default_str();
  cmd->add_option("--mode", a.eval.mode,
                  "model mode when the checkpoint does not record it (--checkpoint only)");
  cmd->add_option("--alpha-override", a.eval.alpha_override,
                  "controlled alpha of every ternary layer, for state dicts without it (--checkpoint only)");
  cmd->add_option("--corpus", a.corpus, "language models: the text's folder")
      ->capture_default_str();
  cmd->add_option("--max-windows", a.max_windows,
                  "language models: validation windows of the context (0 = all)")
      ->capture_default_str();
  cmd->add_flag("--json", a.json, "print one JSON object");
  add_threads_option(*cmd, a.threads);
  cmd->callback([] {
    apply_threads(a.threads);
    // A language model (train-lm checkpoint, or a model file of one) is scored on the text.
    // (Both or neither given: eval_checkpoint says which flags to pass.)
    const bool one = a.eval.checkpoint.empty() != a.eval.model.empty();
    if (const LanguageModel lm = one ? load_lm_if_any(a.eval.checkpoint, a.eval.model)
                                     : LanguageModel{};
        lm.model) {
      const Json r = eval_lm(*lm.model, *lm.tokenizer, a.corpus, a.max_windows);
      if (a.json) std::cout << r.dump() << std::endl;
      else
        std::cout << "[eval] val_loss=" << py_fixed6(r["val_loss"]) << " val_bits_per_byte="
                  << py_fixed6(r["val_bits_per_byte"]) << " tokens=" << r["tokens"].dump()
                  << std::endl;
      return;
    }
    const Json r = eval_checkpoint(a.eval);
    if (a.json) std::cout << r.dump() << std::endl;
    else
      std::cout << "[eval] test_loss=" << py_fixed6(r["test_loss"]) << " test_accuracy="
                << py_fixed6(r["test_accuracy"]) << " examples=" << r["examples"].dump()
                << std::endl;
  });
}

static const CommandRegistration registration("eval", register_eval);

}  // namespace chimera
