#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/smoke.h"

namespace chimera {

static void register_smoke(CLI::App& app) {
  struct Args {
    int threads = 0;
    std::string config_path, log_jsonl;
  };
  static Args args;
  args = Args{};
  auto* cmd = app.add_subcommand("smoke", "BitLinear 8->4 smoke run: Chimera21, 8 steps, seed 7");
  add_threads_option(*cmd, args.threads);
  cmd->add_option("--config", args.config_path,
                  "YAML config (default: built-in, equal to configs/default.yaml)");
  cmd->add_option("--log-jsonl", args.log_jsonl, "also write the records to this JSONL file");
  cmd->callback([] {
    apply_threads(args.threads);
    SmokeOptions options;
    if (!args.config_path.empty()) options.config = load_config(args.config_path);
    options.log_jsonl = args.log_jsonl;
    run_smoke(options, std::cout);
  });
}

static const CommandRegistration registration("smoke", register_smoke);

}  // namespace chimera
