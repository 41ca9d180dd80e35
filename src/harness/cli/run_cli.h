// One process, many commands: the chimera program's app built on demand, and a command run from
// an argument list. main() uses the app; the Python module's runs (chimera.train_resnet(...))
// use run_cli, so their keyword arguments are exactly the command's flags.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace chimera {

// The program's app with every subcommand registered (flags at their defaults).
std::unique_ptr<CLI::App> make_cli_app();

// Runs `args` (a subcommand and its flags, no program name) as the program would. A usage
// error (unknown flag, bad value) or a failed run throws chimera::Error with the message the
// program would print; asking for --help is a usage error too (see cli_help).
void run_cli(const std::vector<std::string>& args);

// The --help text of a subcommand ("train-resnet", "bench resnet"); empty: the program's.
std::string cli_help(const std::string& subcommand);

}  // namespace chimera
