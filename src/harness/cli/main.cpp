// chimera: parse the command line, run one subcommand, report errors in one line.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#include "engine/error.h"
#include "harness/cli/run_cli.h"
#include "harness/cli/ranks.h"
#include "harness/log/utf8.h"

int main(int argc, char** argv) {
  const std::unique_ptr<CLI::App> app_holder = chimera::make_cli_app();
  CLI::App& app = *app_holder;
  // A file-size limit (ulimit -f) would otherwise kill us with SIGXFSZ mid-write; ignored, the
  // write fails with EFBIG and becomes an ordinary error that leaves the previous file intact.
  std::signal(SIGXFSZ, SIG_IGN);
  // Arguments become paths and JSON record fields; JSON needs UTF-8. Refused now, not at the end.
  for (int i = 1; i < argc; ++i)
    if (!chimera::is_valid_utf8(argv[i])) {
      std::fprintf(stderr, "chimera: error: argument %d%s is not valid UTF-8 text\n", i,
                   i > 1 ? (std::string(" (after '") + argv[i - 1] + "')").c_str() : "");
      return 1;
    }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chimera: error: %s\n", e.what());
    chimera::end_all_ranks_after_error();
    return 1;
  }
  return 0;
}
