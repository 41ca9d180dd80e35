#include <iostream>

#include "harness/cli/commands.h"
#include "harness/cli/ranks.h"
#include "harness/experiments/train_lm.h"

namespace chimera {

static void register_train_lm(CLI::App& app) {
  static TrainLmArgs a;
  a = TrainLmArgs{};
  static std::string config_path;
  config_path.clear();
  static int threads = 0;
  threads = 0;
  static bool no_progress = false;
  no_progress = false;
  auto* cmd = app.add_subcommand(
      "train-lm", "train a BitNet-style transformer language model on English text (byte tokens)");
  cmd->add_option("--config", config_path,
                  "YAML config (configs/lm-*.yaml; default: the built-in settings)");
  cmd->add_option("--mode", a.mode, "fp32_baseline | strict_bitnet | chimera (default: config)");
  cmd->add_option("--optimizer", a.optimizer, "adamw | chimera21 (default: config)");
  cmd->add_option("--lr", a.lr, "peak learning rate (default: config)");
  cmd->add_option("--steps", a.steps, "training steps (default: config)");
  cmd->add_option("--batch-size", a.batch_size, "windows per step (default: config)");
  cmd->add_option("--target-bits", a.target_bits, "chimera's controlled effective bits (default: config)");
  cmd->add_option("--seed", a.seed)->capture_default_str();
  cmd->add_option("--corpus", a.corpus, "folder of Debian's fortunes package")->capture_default_str();
  cmd->add_option("--out-dir", a.out_dir, "where the JSONL log goes")->capture_default_str();
  cmd->add_option("--log-jsonl", a.log_jsonl, "log file (default: <out-dir>/<run-name>.jsonl)");
  cmd->add_option("--checkpoint-dir", a.checkpoint_dir)->capture_default_str();
  cmd->add_option("--run-name", a.run_name, "default train_lm_<mode>_seed<seed>");
  cmd->add_option("--checkpoint-every", a.checkpoint_every, "also checkpoint every N steps")
      ->capture_default_str();
  cmd->add_option("--stop-after", a.stop_after,
                  "end after this step of the schedule, checkpointed (resume with --resume)")
      ->capture_default_str();
  cmd->add_option("--resume", a.resume, "continue the run saved in this checkpoint");
  cmd->add_flag("--no-progress", no_progress, "no progress line on stderr");
  add_threads_option(*cmd, threads);
  cmd->callback([] {
    apply_threads(threads);
    if (!config_path.empty()) {
      a.config = load_config(config_path);
      a.config_source = config_path;
    }
    a.progress = !no_progress;
    const std::unique_ptr<Communicator> comm = launched_communicator();
    a.comm = comm.get();
    train_lm(a, std::cout);
  });
}

static const CommandRegistration registration("train-lm", register_train_lm);

}  // namespace chimera
