#include "harness/cli/commands.h"

#include "engine/threads.h"

namespace chimera {

void register_commands(CLI::App& app) { register_smoke(app); }

void add_threads_option(CLI::App& cmd, int& threads) {
  threads = hardware_threads();
  cmd.add_option("--threads", threads, "worker threads (default: all cores)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void apply_threads(int threads) { set_num_threads(threads); }

}  // namespace chimera
