// `chimera bench lm`: a language model's prompt-processing and generation speed, measured as
// llama-bench measures them.
#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/bench_lm.h"

namespace chimera {

static void register_bench_lm(CLI::App& app) {
  struct Args {
    int threads = 0;
    LmBenchOptions options;
  };
  static Args a;
  a = Args{};
  CLI::App& bench = command_group(app, "bench", "benchmarks (timings, not tests)");
  auto* cmd = bench.add_subcommand(
      "lm", "language model speed as llama-bench measures it: pp (a prompt in one forward) and "
            "tg (tokens one at a time), tokens/s");
  cmd->add_option("--checkpoint", a.options.checkpoint, "a train-lm checkpoint");
  cmd->add_option("--model", a.options.model, "a model file from chimera export, or a GGUF file");
  cmd->add_option("--prompt-tokens", a.options.prompt_tokens, "pp test length (0: none)")
      ->capture_default_str();
  cmd->add_option("--gen-tokens", a.options.gen_tokens, "tg test length (0: none)")
      ->capture_default_str();
  cmd->add_option("--repetitions", a.options.repetitions, "timed runs of each test")
      ->capture_default_str();
  cmd->add_flag("--json", a.options.json, "one JSON object per test");
  add_threads_option(*cmd, a.threads);
  cmd->callback([] {
    apply_threads(a.threads);
    run_lm_bench(a.options, std::cout);
  });
}

static const CommandRegistration registration("bench lm", register_bench_lm);

}  // namespace chimera
