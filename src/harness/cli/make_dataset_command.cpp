#include <iostream>

#include "harness/cli/commands.h"
#include "train/data/shapes_dataset.h"

namespace chimera {

static void register_make_dataset(CLI::App& app) {
  struct Args {
    int threads = 0;
    std::string out;
    int64_t train = 50000, test = 10000;
    uint64_t seed = 0;
  };
  static Args args;
  args = Args{};
  auto* cmd = app.add_subcommand("make-dataset", "write a generated dataset to disk");
  cmd->require_subcommand(1);
  auto* shapes = cmd->add_subcommand(
      "synthetic-cifar",
      "learnable CIFAR-10 stand-in in its binary format: 10 shape/texture classes at random "
      "positions and colours (train-resnet --dataset-root DIR reads it)");
  add_threads_option(*shapes, args.threads);
  shapes->add_option("--out", args.out, "folder to write data_batch_1..5.bin and test_batch.bin")
      ->required();
  shapes->add_option("--train", args.train, "training images")->capture_default_str();
  shapes->add_option("--test", args.test, "test images")->capture_default_str();
  shapes->add_option("--seed", args.seed, "generator seed")->capture_default_str();
  shapes->callback([] {
    apply_threads(args.threads);
    write_synthetic_cifar(args.out, args.train, args.test, args.seed);
    std::cout << "[make-dataset] synthetic-cifar train=" << args.train << " test=" << args.test
              << " seed=" << args.seed << " out=" << args.out << "\n";
  });
}

static const CommandRegistration registration("make-dataset", register_make_dataset);

}  // namespace chimera
