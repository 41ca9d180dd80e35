#include "harness/cli/commands.h"

#include <map>
#include <string>

#include "engine/threads.h"

namespace chimera {

// A function-local map: registrations run during static initialisation, in any file order.
static std::map<std::string, RegisterFn>& registry() {
  static std::map<std::string, RegisterFn> commands;
  return commands;
}

CommandRegistration::CommandRegistration(const char* name, RegisterFn fn) { registry()[name] = fn; }

void register_commands(CLI::App& app) {
  for (const auto& [name, fn] : registry()) fn(app);
}

CLI::App& command_group(CLI::App& app, const char* name, const char* description) {
  const auto found = app.get_subcommands([name](CLI::App* c) { return c->get_name() == name; });
  if (!found.empty()) return *found.front();
  CLI::App* group = app.add_subcommand(name, description);
  group->require_subcommand(1);
  return *group;
}

void add_threads_option(CLI::App& cmd, int& threads) {
  threads = hardware_threads();
  cmd.add_option("--threads", threads, "worker threads (default: every CPU this process may use)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
}

void apply_threads(int threads) { set_num_threads(threads); }

}  // namespace chimera
