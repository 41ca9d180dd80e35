// chimera: parse the command line, run one subcommand, report errors in one line.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "engine/error.h"
#include "harness/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Chimera: ternary-weight neural networks (optimizer, quantizer, integer execution)"};
  app.set_version_flag("--version", std::string("chimera ") + CHIMERA_VERSION);
  app.require_subcommand(1);
  chimera::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const chimera::Error& e) {
    std::fprintf(stderr, "chimera: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chimera: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
