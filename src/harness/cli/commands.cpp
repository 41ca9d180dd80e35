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

void add_threads_option(CLI::App& cmd, int& threads) {
  threads = hardware_threads();
  cmd.add_option("--threads", threads, "worker threads (default: all cores)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void apply_threads(int threads) { set_num_threads(threads); }

}  // namespace chimera
