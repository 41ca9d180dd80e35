#include <iostream>

#include "harness/cli/commands.h"
#include "harness/report/report.h"

namespace chimera {

static void register_report(CLI::App& app) {
  static ReportArgs a;
  a = ReportArgs{};
  auto* cmd = app.add_subcommand(
      "report", "training logs (JSONL, ours or the reference's) to DIR/index.html with figures");
  cmd->add_option("logs", a.logs, "one or more JSONL logs")->required();
  cmd->add_option("--out", a.out_dir, "output folder")->required();
  cmd->add_option("--python", a.python, "the Python with matplotlib")->capture_default_str();
  cmd->callback([] { write_report(a, std::cout); });
}

static const CommandRegistration registration("report", register_report);

}  // namespace chimera
