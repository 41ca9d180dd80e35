#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>

#include "engine/error.h"
#include "harness/cli/commands.h"
#include "harness/cli/ranks.h"
#include "harness/experiments/sweep.h"

namespace chimera {

// This program's own path: each configuration runs as a fresh process of it.
static std::string own_program() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  CHIMERA_CHECK(n > 0, "sweep: cannot find this program's path (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

static void register_sweep(CLI::App& app) {
  static SweepArgs a;
  a = SweepArgs{};
  auto* cmd = app.add_subcommand(
      "sweep",
      "run a command over a grid of flag values (`--grid 'mode=strict_bitnet,chimera seed=1,2' "
      "--out DIR -- train-resnet ...`): one log per run, a merged log, a report; finished runs "
      "are skipped when the sweep is run again");
  cmd->add_option("--grid", a.grid, "space-separated key=v1,v2,... (key becomes --key, _ as -)")
      ->required();
  cmd->add_option("--out", a.out_dir, "the sweep's folder (runs/, sweep.jsonl, merged.jsonl, report/)")
      ->required();
  cmd->add_option("--jobs", a.jobs, "configurations run at once (each gets cores / jobs threads)")
      ->capture_default_str();
  cmd->add_flag("!--no-report", a.report, "skip the report of the finished runs");
  cmd->add_option("command", a.command, "after --: the subcommand and its flags")->required();
  cmd->callback([] {
    a.program = own_program();
    const SweepResult r = run_launched_sweep(a, std::cout);
    CHIMERA_CHECK(r.failed == 0, "sweep: ", r.failed, " configuration(s) failed; see ",
                  r.status_path, " (the others finished; run the sweep again to retry only those)");
  });
}

static const CommandRegistration registration("sweep", register_sweep);

}  // namespace chimera
