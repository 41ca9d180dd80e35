#include "harness/experiments/sweep.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "harness/log/jsonl.h"
#include "harness/report/report.h"

namespace chimera {

namespace fs = std::filesystem;

std::vector<SweepAxis> parse_grid(const std::string& grid) {
  std::vector<SweepAxis> axes;
  std::set<std::string> keys;
  std::istringstream in(grid);
  std::string token;
  while (in >> token) {
    const size_t eq = token.find('=');
    CHIMERA_CHECK(eq != std::string::npos && eq > 0, "--grid: '", token,
                  "' is not key=value[,value...]");
    SweepAxis axis{token.substr(0, eq), {}};
    CHIMERA_CHECK(axis.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") ==
                      std::string::npos,
                  "--grid: key '", axis.key, "' must be a flag name (lower-case letters, digits, _ -)");
    CHIMERA_CHECK(keys.insert(axis.key).second, "--grid: key '", axis.key, "' appears twice");
    std::istringstream values(token.substr(eq + 1));
    std::string v;
    std::set<std::string> seen;
    while (std::getline(values, v, ',')) {
      CHIMERA_CHECK(!v.empty(), "--grid: '", token, "' has an empty value");
      CHIMERA_CHECK(seen.insert(v).second, "--grid: '", token, "' lists '", v, "' twice");
      axis.values.push_back(v);
    }
    CHIMERA_CHECK(!axis.values.empty() && token.back() != ',', "--grid: '", token,
                  "' has an empty value");
    axes.push_back(std::move(axis));
  }
  CHIMERA_CHECK(!axes.empty(), "--grid is empty: give key=value[,value...] pairs, e.g. "
                               "'mode=strict_bitnet,chimera seed=1,2'");
  return axes;
}

namespace {

std::string flag_of(const std::string& key) {
  std::string f = "--" + key;
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

// Letters, digits, '.', '-' kept; anything else (a path separator, a space) becomes '-'.
std::string name_part(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '-';
  return out;
}

bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  for (const std::string& a : args)
    if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
  return false;
}

}  // namespace

std::vector<SweepRun> expand_grid(const std::vector<SweepAxis>& axes,
                                  const std::vector<std::string>& command,
                                  const std::string& out_dir, int threads_per_run) {
  CHIMERA_CHECK(!command.empty(), "sweep: no command after --, e.g. -- train-resnet --dataset synthetic");
  for (const char* own : {"--log-jsonl", "--checkpoint-dir", "--run-name"})
    CHIMERA_CHECK(!has_flag(command, own), "sweep: the command may not set ", own,
                  "; the sweep gives each run its own under --out");
  for (const SweepAxis& a : axes)
    CHIMERA_CHECK(!has_flag(command, flag_of(a.key)), "sweep: the command sets ", flag_of(a.key),
                  ", which the grid also sets; give it in one place");
  std::vector<SweepRun> runs(1);
  for (const SweepAxis& axis : axes) {
    std::vector<SweepRun> next;
    for (const SweepRun& r : runs)
      for (const std::string& v : axis.values) {
        SweepRun n = r;
        n.values.emplace_back(axis.key, v);
        next.push_back(std::move(n));
      }
    runs = std::move(next);
  }
  const fs::path dir = fs::path(out_dir) / "runs";
  for (SweepRun& r : runs) {
    for (const auto& [k, v] : r.values) r.name += (r.name.empty() ? "" : "_") + k + "-" + name_part(v);
    r.args = command;
    for (const auto& [k, v] : r.values) r.args.insert(r.args.end(), {flag_of(k), v});
    r.args.insert(r.args.end(), {"--log-jsonl", (dir / (r.name + ".jsonl")).string(),
                                 "--checkpoint-dir", (dir / r.name).string(), "--run-name", r.name});
    if (threads_per_run > 0 && !has_flag(command, "--threads"))
      r.args.insert(r.args.end(), {"--threads", std::to_string(threads_per_run)});
  }
  return runs;
}

namespace {

// Starts `program args...` with stdout and stderr into `console`; returns its pid.
pid_t start_run(const std::string& program, const SweepRun& run, const fs::path& console) {
  const pid_t pid = ::fork();
  CHIMERA_CHECK(pid >= 0, "sweep: cannot start a process for ", run.name);
  if (pid == 0) {
    // Each run is a process of its own, not a rank of the sweep's MPI job (under mpirun the
    // launcher's variables would make it try to join that job): they are removed.
    std::vector<std::string> launcher;
    for (char** e = environ; *e; ++e) {
      const std::string var(*e);
      for (const char* prefix : {"OMPI_", "PMIX_", "PMI_", "OPAL_", "SLURM_STEP_"})
        if (var.rfind(prefix, 0) == 0) launcher.push_back(var.substr(0, var.find('=')));
    }
    for (const std::string& name : launcher) ::unsetenv(name.c_str());
    const int fd = ::open(console.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(126);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const std::string& a : run.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The run's error: its last line that says something (CLI11 ends with a hint to use --help).
std::string last_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line.rfind("Run with --help", 0) != 0) last = line;
  return last;
}

Json args_json(const SweepRun& r) { return Json(r.args); }

bool already_done(const fs::path& done, const SweepRun& r) {
  if (!fs::is_regular_file(done)) return false;
  try {
    return Json::parse(read_file(done.string())).at("args") == args_json(r);
  } catch (const std::exception&) {
    return false;  // damaged marker: run it again
  }
}

}  // namespace

SweepPlan plan_sweep(const SweepArgs& args, int threads_per_run) {
  SweepPlan plan;
  plan.runs = expand_grid(parse_grid(args.grid), args.command, args.out_dir, threads_per_run);
  plan.runs_dir = (fs::path(args.out_dir) / "runs").string();
  require_writable_folder(plan.runs_dir, "--out");
  for (const SweepRun& r : plan.runs)
    plan.done.push_back(already_done(fs::path(plan.runs_dir) / (r.name + ".done"), r));
  return plan;
}

namespace {

RunOutcome outcome_of(const SweepRun& r, const fs::path& dir, int wstatus, double seconds) {
  RunOutcome o;
  o.seconds = seconds;
  o.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  if (o.exit_code == 0)
    write_file_atomic((dir / (r.name + ".done")).string(),
                      Json{{"args", args_json(r)}, {"seconds", seconds}}.dump() + "\n");
  else
    o.error = last_line(dir / (r.name + ".out"));
  return o;
}


using Clock = std::chrono::steady_clock;

}  // namespace

void print_outcome(std::ostream& out, const SweepRun& r, const RunOutcome& o) {
  out << "[sweep] run=" << r.name << " status=" << (o.exit_code ? "failed" : "finished");
  if (o.exit_code) out << " exit_code=" << o.exit_code << " error=\"" << o.error << "\"";
  out << std::endl;
}

RunOutcome execute_run(const std::string& program, const SweepRun& run, const std::string& runs_dir) {
  const fs::path dir(runs_dir);
  const auto start = Clock::now();
  const pid_t pid = start_run(program, run, dir / (run.name + ".out"));
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  return outcome_of(run, dir, wstatus,
                    std::chrono::duration<double>(Clock::now() - start).count());
}

SweepResult run_sweep(const SweepArgs& args, std::ostream& out) {
  CHIMERA_CHECK(args.jobs >= 1, "--jobs must be at least 1");
  const int cores = std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const SweepPlan plan = plan_sweep(args, args.jobs > 1 ? std::max(1, cores / args.jobs) : 0);
  const fs::path dir(plan.runs_dir);
  std::vector<RunOutcome> outcomes(plan.runs.size());
  std::map<pid_t, std::pair<size_t, Clock::time_point>> running;
  size_t next = 0;
  while (next < plan.runs.size() || !running.empty()) {
    while (next < plan.runs.size() && static_cast<int>(running.size()) < args.jobs) {
      if (!plan.done[next]) {
        const SweepRun& r = plan.runs[next];
        running[start_run(args.program, r, dir / (r.name + ".out"))] = {next, Clock::now()};
      }
      ++next;
    }
    if (running.empty()) continue;
    int wstatus = 0;
    const pid_t pid = ::waitpid(-1, &wstatus, 0);
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto [index, start] = it->second;
    running.erase(it);
    outcomes[index] = outcome_of(plan.runs[index], dir, wstatus,
                                 std::chrono::duration<double>(Clock::now() - start).count());
    print_outcome(out, plan.runs[index], outcomes[index]);
  }
  return finish_sweep(args, plan, outcomes, out);
}

SweepResult finish_sweep(const SweepArgs& args, const SweepPlan& plan,
                         const std::vector<RunOutcome>& outcomes, std::ostream& out) {
  const fs::path dir(plan.runs_dir);
  SweepResult result;
  result.status_path = (fs::path(args.out_dir) / "sweep.jsonl").string();
  std::string status, merged;
  std::vector<std::string> logs;
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const SweepRun& r = plan.runs[i];
    const RunOutcome& o = outcomes[i];
    const char* state = plan.done[i] ? "skipped" : o.exit_code ? "failed" : "finished";
    Json j = {{"run", r.name},           {"status", state},
              {"exit_code", o.exit_code}, {"seconds", o.seconds},
              {"log", (dir / (r.name + ".jsonl")).string()}};
    j["values"] = Json::object();
    for (const auto& [k, v] : r.values) j["values"][k] = v;
    if (!o.error.empty()) j["error"] = o.error;
    status += j.dump() + "\n";
    if (plan.done[i]) ++result.skipped;
    else if (o.exit_code) ++result.failed;
    else ++result.finished;
    if (o.exit_code) continue;
    // The merged log: every finished run's records, tagged with the run and its grid values.
    const fs::path log = dir / (r.name + ".jsonl");
    logs.push_back(log.string());
    std::istringstream lines(read_file(log.string()));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      Json rec = Json::parse(line);
      rec["sweep_run"] = r.name;
      rec["sweep_values"] = j["values"];
      merged += rec.dump() + "\n";
    }
  }
  write_file_atomic(result.status_path, status);
  result.merged_path = (fs::path(args.out_dir) / "merged.jsonl").string();
  write_file_atomic(result.merged_path, merged);
  out << "[sweep] finished=" << result.finished << " skipped=" << result.skipped
      << " failed=" << result.failed << " merged=" << result.merged_path << std::endl;
  if (args.report && args.command.front() == "train-resnet" && !logs.empty()) {
    ReportArgs report{logs, (fs::path(args.out_dir) / "report").string()};
    result.report_path = write_report(report, out);
    out << "[sweep] report=" << result.report_path << std::endl;
  }
  return result;
}

}  // namespace chimera
