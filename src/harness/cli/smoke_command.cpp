#include "harness/cli/commands.h"

namespace chimera {

void register_smoke(CLI::App& app) {
  auto* cmd = app.add_subcommand("smoke", "BitLinear 8->4 smoke run (Chimera21, 8 steps)");
  static int threads = 0;
  add_threads_option(*cmd, threads);
  cmd->callback([] { apply_threads(threads); });
}

}  // namespace chimera
