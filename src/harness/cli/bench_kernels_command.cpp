// `chimera bench kernels`: timings of the packed ternary kernels against float32 and int8
// baselines.
#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/bench_kernels.h"

namespace chimera {

static void register_bench(CLI::App& app) {
  struct Args {
    int threads = 0;
    KernelBenchOptions options;
  };
  static Args args;
  args = Args{};
  CLI::App& bench = command_group(app, "bench", "benchmarks (timings, not tests)");
  auto* cmd = bench.add_subcommand(
      "kernels",
      "packed ternary GEMV/GEMM (i2t_gemm) vs float32 OpenBLAS and int8 oneDNN: ResNet-20 convs "
      "at batch 128 as implicit GEMMs, 4096x4096 and 11008x4096 at batch 1 and 8, bitnet.cpp's "
      "kernel-table shapes");
  add_threads_option(*cmd, args.threads);
  cmd->add_flag("--json", args.options.json, "one JSON object per shape instead of the table");
  cmd->add_option("--filter", args.options.filter,
                  "only the shapes whose name contains this (e.g. gemv, resnet20, bitnet.cpp)");
  cmd->add_option("--min-time", args.options.min_seconds,
                  "seconds per timing (at least 5 runs; the median is reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([] {
    apply_threads(args.threads);
    run_kernel_bench(args.options, std::cout);
  });
}

static const CommandRegistration registration("bench kernels", register_bench);

}  // namespace chimera
