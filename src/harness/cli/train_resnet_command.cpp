#include <iostream>

#include "harness/cli/commands.h"
#include "harness/cli/ranks.h"
#include "harness/cli/train_flags.h"

namespace chimera {

static void register_train_resnet(CLI::App& app) {
  static TrainCliArgs a;
  a = TrainCliArgs{};
  TrainResnetArgs& r = a.run;
  auto* cmd = app.add_subcommand("train-resnet", "train the CIFAR ResNet-20 (SPEC §5)");
  add_shared_train_flags(*cmd, a);
  cmd->add_option("--mode", r.mode, "fp32_baseline | strict_bitnet | chimera")->capture_default_str();
  cmd->add_option("--optimizer", r.optimizer,
                  "chimera21 | sgd | adamw (default: sgd for fp32_baseline, else chimera21)");
  cmd->add_option("--run-name", r.run_name, "checkpoint name (default train_resnet_cifar_<mode>_seed<seed>)");
  cmd->add_option("--checkpoint-every", r.checkpoint_every, "also checkpoint every N epochs")
      ->capture_default_str();
  cmd->add_option("--resume", r.resume, "continue the run saved in this checkpoint");
  cmd->add_flag("--sync-batchnorm", r.sync_batchnorm,
                "under mpirun: batch-norm statistics over every rank's shard (default: per rank)");
  cmd->callback([] {
    apply_shared_train_flags(a);
    const std::unique_ptr<Communicator> comm = launched_communicator();
    a.run.comm = comm.get();
    const TrainResnetResult result = train_resnet(a.run, std::cout);
    if (!result.checkpoint_path.empty() && (!comm || comm->rank() == 0))
      std::cout << "[resnet_cifar] checkpoint=" << result.checkpoint_path << std::endl;
    if (comm && comm->rank() == 0) {
      // Rank 0's time in MPI calls (waiting for slower ranks included) against its step time.
      const double c = communication_seconds(comm.get()), t = result.timing.train_seconds;
      std::cout << "[data_parallel] ranks=" << comm->size() << " train_seconds=" << t
                << " communication_seconds=" << c << " communication_share=" << (t > 0 ? c / t : 0)
                << std::endl;
    }
  });
}

static const CommandRegistration registration("train-resnet", register_train_resnet);

}  // namespace chimera
