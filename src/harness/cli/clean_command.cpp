#include <iostream>

#include "harness/cli/commands.h"
#include "harness/experiments/clean.h"

namespace chimera {

static void register_clean(CLI::App& app) {
  struct Args {
    bool dry_run = false;
    std::string folder = ".";
  };
  static Args a;
  a = Args{};
  auto* cmd = app.add_subcommand(
      "clean",
      "remove what runs wrote under <folder>/outputs (logs, checkpoints, model files, tables); "
      "anything else there is kept and listed");
  cmd->add_flag("--dry-run", a.dry_run, "print what would be removed, remove nothing");
  cmd->add_option("--folder", a.folder, "the working folder")->capture_default_str();
  cmd->callback([] { clean_outputs(a.folder, a.dry_run, std::cout); });
}

static const CommandRegistration registration("clean", register_clean);

}  // namespace chimera
