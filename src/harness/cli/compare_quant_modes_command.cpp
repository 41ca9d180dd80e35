#include <iostream>

#include "engine/error.h"
#include "harness/cli/commands.h"
#include "harness/experiments/compare_quant_modes.h"

namespace chimera {

static void register_compare_quant_modes(CLI::App& app) {
  // Values given on the command line; the rest come from the config after it is loaded.
  struct Args {
    int threads = 0;
    int64_t steps = 0, seeds = 0, batch_size = 0, in_features = 0, out_features = 0;
    double lr = 0;
    std::string config_path, log_jsonl, device = "cpu", activation_grad, init_from, save_init;
    CLI::Option *steps_opt, *seeds_opt, *batch_opt, *in_opt, *out_opt, *lr_opt, *grad_opt;
  };
  static Args args;
  args = Args{};
  auto* cmd = app.add_subcommand(
      "compare-quant-modes",
      "strict_bitnet vs chimera BitLinear on the same data and init, Chimera21, per-mode summary");
  add_threads_option(*cmd, args.threads);
  cmd->add_option("--config", args.config_path,
                  "YAML config (default: built-in, equal to configs/default.yaml)");
  args.steps_opt = cmd->add_option("--steps", args.steps,
                                   "training steps, also the alpha warm-up (default: config "
                                   "benchmark.steps, 8)");
  args.seeds_opt = cmd->add_option("--seeds", args.seeds,
                                   "seeds 11, 12, ... (default: config benchmark.seeds, 3)");
  args.batch_opt = cmd->add_option("--batch-size", args.batch_size,
                                   "rows of x (default: config benchmark.batch_size, 16)");
  args.in_opt = cmd->add_option("--in-features", args.in_features,
                                "(default: config benchmark.in_features, 8)");
  args.out_opt = cmd->add_option("--out-features", args.out_features,
                                 "(default: config benchmark.out_features, 4)");
  args.lr_opt = cmd->add_option("--lr", args.lr, "Chimera21 learning rate (default: config lr)");
  cmd->add_option("--log-jsonl", args.log_jsonl,
                  "also write the records to this JSONL file (truncated first)");
  cmd->add_option("--device", args.device, "cpu (the only device, as in the reference)")
      ->capture_default_str();
  args.grad_opt = cmd->add_option(
      "--activation-grad", args.activation_grad,
      "ste | none: gradient through the activation rounding (default: config activation_grad)");
  cmd->add_option("--init-from", args.init_from,
                  "start from the data and weights in this safetensors file (s<I>.x, s<I>.target, "
                  "s<I>.<mode>.init.weight_master, s<I>.<mode>.init.bias)");
  cmd->add_option("--save-init", args.save_init,
                  "write the data and weights this run starts from to this safetensors file");
  cmd->callback([] {
    CHIMERA_CHECK(args.device == "cpu", "--device must be cpu, got '", args.device, "'");
    CompareQuantModesOptions options = compare_quant_modes_defaults(
        args.config_path.empty() ? Config{} : load_config(args.config_path));
    if (args.steps_opt->count()) options.steps = args.steps;
    if (args.seeds_opt->count()) options.seeds = args.seeds;
    if (args.batch_opt->count()) options.batch_size = args.batch_size;
    if (args.in_opt->count()) options.in_features = args.in_features;
    if (args.out_opt->count()) options.out_features = args.out_features;
    if (args.lr_opt->count()) options.lr = args.lr;
    if (args.grad_opt->count()) {
      CHIMERA_CHECK(args.activation_grad == "ste" || args.activation_grad == "none",
                    "--activation-grad must be ste or none, got '", args.activation_grad, "'");
      options.config.layer.activation_grad = parse_activation_grad(args.activation_grad);
    }
    options.log_jsonl = args.log_jsonl;
    options.init_from = args.init_from;
    options.save_init = args.save_init;
    apply_threads(args.threads);
    run_compare_quant_modes(options, std::cout);
  });
}

static const CommandRegistration registration("compare-quant-modes", register_compare_quant_modes);

}  // namespace chimera
