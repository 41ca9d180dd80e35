#include <iostream>
#include <optional>

#include "harness/cli/commands.h"
#include "harness/experiments/ablation.h"

namespace chimera {

static void register_ablation(CLI::App& app) {
  struct Args {
    bool full = false;
    std::optional<std::string> dataset, dataset_root, out_dir;
    std::optional<int64_t> epochs, max_batches, batch_size, seed;
    std::optional<double> sgd_lr, ternary_lr, target_bits;
    bool augment = false, progress = false;
    int threads = 0;
  };
  static Args a;
  a = Args{};
  auto* cmd = app.add_subcommand(
      "ablation",
      "the main job: fp32_baseline, strict_bitnet and chimera on real images (default "
      "Fashion-MNIST), exported, timed and tabulated");
  cmd->add_flag("--full", a.full,
                "the full schedule: every training image, augmentation, 15 cosine epochs "
                "(default: 3 epochs of about 20,000 images, no augmentation)");
  cmd->add_option("--dataset", a.dataset, "fashion-mnist (default) | cifar10 | synthetic");
  cmd->add_option("--dataset-root", a.dataset_root, "default: the dataset's usual place");
  cmd->add_option("--out-dir", a.out_dir,
                  "default: outputs/ablation (outputs/ablation_full with --full)");
  cmd->add_option("--epochs", a.epochs);
  cmd->add_option("--max-batches", a.max_batches, "training batches per epoch (0 = all)");
  cmd->add_option("--batch-size", a.batch_size);
  cmd->add_option("--seed", a.seed);
  cmd->add_option("--sgd-lr", a.sgd_lr, "fp32_baseline's learning rate (default 0.05)");
  cmd->add_option("--ternary-lr", a.ternary_lr, "Chimera21's learning rate (default 0.002)");
  cmd->add_option("--target-bits", a.target_bits, "chimera's controlled effective bits (1.32)");
  cmd->add_flag("--augment", a.augment, "random crop (4-pixel padding) + horizontal flip");
  cmd->add_flag("--progress", a.progress, "progress display on stderr");
  add_threads_option(*cmd, a.threads);
  cmd->callback([] {
    apply_threads(a.threads);
    AblationArgs args = a.full ? full_ablation() : short_ablation();
    TrainResnetArgs& r = args.base;
    if (a.dataset) r.dataset = *a.dataset;
    if (a.dataset_root) r.dataset_root = *a.dataset_root;
    if (a.out_dir) args.out_dir = *a.out_dir;
    if (a.epochs) r.epochs = *a.epochs;
    if (a.max_batches) r.max_batches = *a.max_batches;
    if (a.batch_size) r.batch_size = *a.batch_size;
    if (a.seed) r.seed = *a.seed;
    if (a.sgd_lr) args.sgd_lr = *a.sgd_lr;
    if (a.ternary_lr) args.ternary_lr = *a.ternary_lr;
    if (a.target_bits) r.target_bits = *a.target_bits;
    if (a.augment) r.augment = true;
    r.progress = a.progress;
    run_ablation(args, std::cout);
  });
}

static const CommandRegistration registration("ablation", register_ablation);

}  // namespace chimera
