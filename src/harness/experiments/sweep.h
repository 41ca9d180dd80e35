// `chimera sweep --grid 'mode=strict_bitnet,chimera target_bits=1.0,1.32 seed=1,2,3' --out DIR
// -- train-resnet ...`: the cartesian product of the grid, each configuration one run of the
// command with `--key value` added per axis (underscores in a key become hyphens: target_bits
// -> --target-bits), run as separate processes of this program, `jobs` at a time.
//
// Under DIR:
//   runs/NAME.jsonl     the run's own log (--log-jsonl), NAME = key-value pairs joined by "_"
//   runs/NAME.out       its console output and errors
//   runs/NAME/          its checkpoints (--checkpoint-dir; --run-name NAME)
//   runs/NAME.done      written when it exits 0: its arguments, time; a rerun of the same
//                       sweep skips a configuration whose .done has the same arguments
//   sweep.jsonl         one line per configuration of this invocation: finished, skipped or
//                       failed, with the exit code and the error's last line
//   merged.jsonl        every record of every finished run, in grid order, with "sweep_run"
//                       (NAME) and "sweep_values" ({key: value}) added
//   report/             `chimera report` of the finished runs' logs (train-resnet only)
// A failed configuration is recorded and the others go on; the sweep exits non-zero when any
// failed.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace chimera {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// "k1=a,b k2=c": axes in order. Malformed tokens, empty values, repeated keys or values, and
// keys that are not [a-z0-9_-] are errors quoting the token.
std::vector<SweepAxis> parse_grid(const std::string& grid);

struct SweepRun {
  std::string name;
  std::vector<std::pair<std::string, std::string>> values;  // (key, value) per axis
  std::vector<std::string> args;                            // the command and all its flags
};

// The configurations in grid order (the first axis slowest), with the per-run flags added.
// `threads_per_run` > 0 adds --threads unless the command already sets it.
std::vector<SweepRun> expand_grid(const std::vector<SweepAxis>& axes,
                                  const std::vector<std::string>& command,
                                  const std::string& out_dir, int threads_per_run);

struct SweepArgs {
  std::string grid;
  std::string out_dir;
  int jobs = 1;
  std::vector<std::string> command;  // e.g. {"train-resnet", "--dataset", "synthetic"}
  std::string program;               // this program's path, run once per configuration
  bool report = true;
};

struct SweepResult {
  int finished = 0, skipped = 0, failed = 0;
  std::string status_path, merged_path, report_path;  // report_path empty when none
};

// The parts of a sweep, for schedulers other than run_sweep's local pool (the MPI task farm,
// src/harness/mpi/sweep_farm.h): plan, execute each run anywhere, finish in one place.
struct SweepPlan {
  std::vector<SweepRun> runs;
  std::vector<bool> done;  // finished by an earlier invocation with the same arguments
  std::string runs_dir;
};
struct RunOutcome {
  int exit_code = 0;
  double seconds = 0;
  std::string error;  // the run's last console line when it failed
};

// Expands the grid and checks which runs an earlier invocation finished. `threads_per_run` as
// in expand_grid.
SweepPlan plan_sweep(const SweepArgs& args, int threads_per_run);
// Runs one configuration as a process of `program` and waits for it; writes its .done marker
// when it exits 0.
RunOutcome execute_run(const std::string& program, const SweepRun& run, const std::string& runs_dir);
// The console line of a finished run: "[sweep] run=NAME status=finished|failed ...".
void print_outcome(std::ostream& out, const SweepRun& run, const RunOutcome& outcome);
// sweep.jsonl, merged.jsonl and the report from every run's outcome (nullopt: skipped as done).
SweepResult finish_sweep(const SweepArgs& args, const SweepPlan& plan,
                         const std::vector<RunOutcome>& outcomes, std::ostream& out);

// The local scheduler: args.jobs processes at a time on this machine.
SweepResult run_sweep(const SweepArgs& args, std::ostream& out);

}  // namespace chimera
