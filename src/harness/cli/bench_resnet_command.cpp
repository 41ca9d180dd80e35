// `chimera bench resnet`: ResNet-20 train and eval throughput per mode, beside
// ../shared/reference/torch_resnet20_bench.py.
#include <unistd.h>

#include <iostream>

#include "engine/error.h"
#include "engine/threads.h"
#include "harness/cli/commands.h"
#include "harness/experiments/bench_resnet.h"

namespace chimera {

static std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  CHIMERA_CHECK(n > 0, "cannot find the chimera executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

static void register_bench_resnet(CLI::App& app) {
  struct Args {
    BenchResnetOptions options;
    std::string activation_grad = "ste";
    std::string one;  // internal: measure one mode in this process
  };
  static Args a;
  a = Args{};
  CLI::App& bench = command_group(app, "bench", "benchmarks (timings, not tests)");
  auto* cmd = bench.add_subcommand(
      "resnet", "ResNet-20 train/eval images per second and peak memory, per mode");
  a.options.threads = hardware_threads();
  cmd->add_option("--batch", a.options.batch)->capture_default_str();
  cmd->add_option("--steps", a.options.steps, "timed iterations (after 3 warm-up)")
      ->capture_default_str();
  cmd->add_option("--threads", a.options.threads,
                  "worker threads (default: every CPU this process may use)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--activation-grad", a.activation_grad, "ste | none | both")->capture_default_str();
  cmd->add_option("--modes", a.options.modes, "subset of fp32_baseline strict_bitnet chimera")
      ->delimiter(',');
  cmd->add_flag("--json", a.options.json, "one JSON object per configuration");
  cmd->add_option("--one", a.one)->group("");  // hidden: the per-configuration child process
  cmd->callback([] {
    if (!a.one.empty()) {
      std::cout << bench_resnet_one(a.one, a.activation_grad, a.options.batch, a.options.steps,
                                    a.options.threads)
                       .dump()
                << std::endl;
      return;
    }
    CHIMERA_CHECK(a.activation_grad == "ste" || a.activation_grad == "none" ||
                      a.activation_grad == "both",
                  "--activation-grad must be ste, none or both, got '", a.activation_grad, "'");
    a.options.activation_grads = a.activation_grad == "both"
                                     ? std::vector<std::string>{"ste", "none"}
                                     : std::vector<std::string>{a.activation_grad};
    bench_resnet(a.options, self_exe(), std::cout);
  });
}

static const CommandRegistration registration("bench resnet", register_bench_resnet);

}  // namespace chimera
