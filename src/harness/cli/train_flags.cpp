#include "harness/cli/train_flags.h"

#include "engine/threads.h"
#include "harness/cli/commands.h"
#include "train/data/fashion_mnist.h"

namespace chimera {

void add_shared_train_flags(CLI::App& cmd, TrainCliArgs& a) {
  TrainResnetArgs& r = a.run;
  cmd.add_option("--config", a.config_path, "YAML config (default: built-in = configs/default.yaml)");
  cmd.add_option("--dataset", r.dataset, "cifar10 | fashion-mnist | synthetic")
      ->capture_default_str();
  cmd.add_option("--dataset-root", r.dataset_root,
                 "folder with the data (default: data/ for cifar10, " +
                     std::string(kFashionMnistDir) + " for fashion-mnist)");
  cmd.add_option("--epochs", r.epochs)->capture_default_str();
  cmd.add_option("--batch-size", r.batch_size)->capture_default_str();
  cmd.add_option("--eval-batch-size", r.eval_batch_size)->capture_default_str();
  cmd.add_option("--lr", r.lr, "learning rate (default: the config's lr)");
  cmd.add_option("--target-bits", r.target_bits, "effective bits the controller aims at (default: config)");
  cmd.add_option("--target-branch", r.target_branch, "sparse | dense (default: config)");
  cmd.add_option("--target-zero-ratio", r.target_zero_ratio, "explicit zero-ratio target");
  cmd.add_option("--controller-frequency", r.controller_frequency, "epoch | batch")->capture_default_str();
  cmd.add_option("--controller-affects", r.controller_affects, "alpha_target | alpha_override")
      ->capture_default_str();
  cmd.add_option("--log-jsonl", r.log_jsonl, "write records to this JSONL file (truncated first)")
      ->capture_default_str();
  cmd.add_option("--device", r.device, "cpu (this build has no CUDA)")->capture_default_str();
  cmd.add_option("--seed", r.seed)->capture_default_str();
  cmd.add_flag("--download", r.download, "download CIFAR-10 into --dataset-root if it is missing");
  cmd.add_option("--dataset-url", r.dataset_url, "archive URL for --download (default: the official one)");
  cmd.add_option("--dataset-md5", r.dataset_md5, "expected MD5 of that archive");
  cmd.add_option("--max-batches", r.max_batches, "cap on training batches per epoch (0 = all)")
      ->capture_default_str();
  cmd.add_option("--eval-max-batches", r.eval_max_batches, "cap on evaluation batches (0 = all)")
      ->capture_default_str();
  cmd.add_flag("--first-last-fp32", r.first_last_fp32, "keep the stem conv and the classifier in float");
  cmd.add_option("--threads,--num-threads", a.threads,
                 "worker threads (default: every CPU this process may use)")
      ->check(CLI::Range(1, 4096));
  cmd.add_flag("--synthetic", r.synthetic, "the reference's Gaussian smoke data (= --dataset synthetic)");
  cmd.add_flag("--save-checkpoint", r.save_checkpoint, "write <checkpoint-dir>/<run-name>.safetensors at the end");
  cmd.add_option("--checkpoint-dir", r.checkpoint_dir)->capture_default_str();
  cmd.add_option("--activation-grad", r.activation_grad, "ste | none (default: config, ste)");
  cmd.add_flag("--augment", r.augment, "random crop (4-pixel padding) + horizontal flip");
  cmd.add_option("--weight-decay", r.weight_decay, "default: the config's weight_decay");
  cmd.add_option("--momentum", r.momentum, "SGD momentum")->capture_default_str();
  cmd.add_option("--lr-schedule", r.lr_schedule, "constant | cosine | step")->capture_default_str();
  cmd.add_flag("--no-progress", a.no_progress, "no progress display on stderr");
}

void apply_shared_train_flags(TrainCliArgs& a) {
  apply_threads(a.threads > 0 ? a.threads : hardware_threads());
  if (!a.config_path.empty()) a.run.config = load_config(a.config_path);
  a.run.progress = !a.no_progress;
}

}  // namespace chimera
