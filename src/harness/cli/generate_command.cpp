#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/lm_inference.h"

namespace chimera {

static void register_generate(CLI::App& app) {
  static GenerateArgs a;
  a = GenerateArgs{};
  static int threads = 0;
  threads = 0;
  static bool json = false;
  json = false;
  auto* cmd = app.add_subcommand(
      "generate", "continue a prompt with a trained language model (train-lm checkpoint or model file)");
  cmd->add_option("--checkpoint", a.checkpoint, "a checkpoint written by chimera train-lm");
  cmd->add_option("--model", a.model,
                  "a model file from chimera export (packed ternary weights), or a GGUF file (its own vocabulary)");
  cmd->add_option("--prompt", a.prompt, "the text to continue")->required();
  cmd->add_option("--max-tokens", a.max_tokens, "tokens to generate (bytes for our models; fewer if the model's end-of-text token comes)")->capture_default_str();
  cmd->add_option("--temperature", a.temperature, "0: always the most likely token")
      ->capture_default_str();
  cmd->add_option("--top-k", a.top_k, "sample among the k most likely (0: all)")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed)->capture_default_str();
  cmd->add_flag("--json", json, "print one JSON object");
  add_threads_option(*cmd, threads);
  cmd->callback([] {
    apply_threads(threads);
    const LanguageModel lm = load_lm(a.checkpoint, a.model);
    const GenerateResult r = generate(*lm.model, *lm.tokenizer, a);
    const double per_s = r.seconds > 0 ? (r.prompt_tokens + r.generated) / r.seconds : 0.0;
    if (json) {
      std::cout << Json{{"prompt", a.prompt},
                        {"text", r.text},
                        {"prompt_tokens", r.prompt_tokens},
                        {"generated", r.generated},
                        {"seconds", r.seconds},
                        {"tokens_per_s", per_s},
                        {"stopped_at_context", r.stopped_at_context},
                        {"stopped_at_end_of_text", r.stopped_at_end_of_text}}
                       // Byte tokens need not form UTF-8: invalid bytes print as U+FFFD.
                       .dump(-1, ' ', false, Json::error_handler_t::replace)
                << std::endl;
      return;
    }
    std::cout << a.prompt << r.text << std::endl;
    std::cerr << "[generate] " << r.generated << " tokens after a " << r.prompt_tokens
              << "-token prompt in " << r.seconds << " s (" << per_s << " tokens/s)"
              << (r.stopped_at_context ? "; stopped at the end of the model's context" : "")
              << (r.stopped_at_end_of_text ? "; the model ended the text" : "")
              << std::endl;
  });
}

static const CommandRegistration registration("generate", register_generate);

}  // namespace chimera
