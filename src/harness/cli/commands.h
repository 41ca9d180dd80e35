// The chimera program's subcommands. Each lives in its own <name>_command.cpp and registers
// itself with a static CommandRegistration, so adding a command touches no shared file.
// A command's flags bind to static variables that its register function resets to their
// defaults, so one process may build the app and run commands many times (the Python module).
#pragma once

#include <CLI/CLI.hpp>

namespace chimera {

using RegisterFn = void (*)(CLI::App& app);

struct CommandRegistration {
  CommandRegistration(const char* name, RegisterFn fn);
};

// Adds every registered subcommand to `app`, in name order (stable --help).
void register_commands(CLI::App& app);

// The subcommand group `name` ("bench"), created by whichever command registers first; its
// members register as "<group> <name>" so the registry keeps them all.
CLI::App& command_group(CLI::App& app, const char* name, const char* description);

// --threads N (default: every CPU this process may use), shared by every subcommand that computes.
void add_threads_option(CLI::App& cmd, int& threads);
void apply_threads(int threads);

}  // namespace chimera
