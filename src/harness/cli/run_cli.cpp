#include "harness/cli/run_cli.h"

#include <sstream>

#include "engine/error.h"
#include "harness/cli/commands.h"

namespace chimera {

std::unique_ptr<CLI::App> make_cli_app() {
  auto app = std::make_unique<CLI::App>(
      "Chimera: ternary-weight neural networks (optimizer, quantizer, integer execution)");
  app->set_version_flag("--version", std::string("chimera ") + CHIMERA_VERSION);
  app->require_subcommand(1);
  register_commands(*app);
  return app;
}

void run_cli(const std::vector<std::string>& args) {
  const std::unique_ptr<CLI::App> app = make_cli_app();
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 parses from the back
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    throw Error("help was asked for: see chimera.cli_help(\"" + (args.empty() ? "" : args[0]) +
                "\")");
  } catch (const CLI::ParseError& e) {
    std::string command;
    for (const std::string& a : args) command += (command.empty() ? "" : " ") + a;
    throw Error(std::string(e.what()) + " (in: " + command + ")");
  }
}

std::string cli_help(const std::string& subcommand) {
  const std::unique_ptr<CLI::App> app = make_cli_app();
  if (subcommand.empty()) return app->help();
  CLI::App* cmd = app.get();
  std::istringstream words(subcommand);
  for (std::string word; words >> word;) {
    try {
      cmd = cmd->get_subcommand(word);
    } catch (const CLI::OptionNotFound&) {
      throw Error("no command '" + subcommand + "' (chimera.cli_help() lists them)");
    }
  }
  return cmd->help();
}

}  // namespace chimera
