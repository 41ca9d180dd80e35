#include "harness/mpi/sweep_farm.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chimera {

namespace {

constexpr int kTagReady = 1;  // worker -> 0: the outcome of its last run (or none), and "next?"
constexpr int kTagWork = 2;   // 0 -> worker: an index into the plan, or -1: no more work

// The outcome as bytes: index (int32), exit code (int32), seconds (double), then the error.
std::string pack(int index, const RunOutcome& o) {
  std::string b(16, '\0');
  const int32_t i = index, c = o.exit_code;
  std::memcpy(&b[0], &i, 4);
  std::memcpy(&b[4], &c, 4);
  std::memcpy(&b[8], &o.seconds, 8);
  return b + o.error;
}

int unpack(const std::string& b, RunOutcome& o) {
  int32_t i, c;
  std::memcpy(&i, &b[0], 4);
  std::memcpy(&c, &b[4], 4);
  std::memcpy(&o.seconds, &b[8], 8);
  o.exit_code = c;
  o.error = b.substr(16);
  return i;
}

void worker(const SweepArgs& args, const SweepPlan& plan) {
  std::string message = pack(-1, {});
  for (;;) {
    MPI_Send(message.data(), static_cast<int>(message.size()), MPI_BYTE, 0, kTagReady,
             MPI_COMM_WORLD);
    int index = -1;
    MPI_Recv(&index, 1, MPI_INT, 0, kTagWork, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (index < 0) return;
    message = pack(index, execute_run(args.program, plan.runs[index], plan.runs_dir));
  }
}

}  // namespace

SweepResult run_sweep_farm(const SweepArgs& args, std::ostream& out, const MpiSession& mpi) {
  // One run per rank at a time: each gets this node's cores divided by the ranks on it.
  const int cores = std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  const SweepPlan plan = plan_sweep(args, std::max(1, cores / mpi.ranks_on_this_node()));
  if (mpi.rank() != 0) {
    worker(args, plan);
    return {};
  }
  std::vector<RunOutcome> outcomes(plan.runs.size());
  std::mutex lock;  // guards next and the printing
  size_t next = 0;
  auto take = [&]() -> int {
    std::lock_guard<std::mutex> g(lock);
    while (next < plan.runs.size() && plan.done[next]) ++next;
    return next < plan.runs.size() ? static_cast<int>(next++) : -1;
  };
  auto finished = [&](int index, const RunOutcome& o) {
    std::lock_guard<std::mutex> g(lock);
    outcomes[index] = o;
    print_outcome(out, plan.runs[index], o);
  };
  // Rank 0 runs configurations too, from a thread, while this one answers the other ranks.
  std::thread own([&] {
    for (int i = take(); i >= 0; i = take())
      finished(i, execute_run(args.program, plan.runs[i], plan.runs_dir));
  });
  int workers = mpi.size() - 1;
  while (workers > 0) {
    int arrived = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, kTagReady, MPI_COMM_WORLD, &arrived, &st);
    if (!arrived) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    int bytes = 0;
    MPI_Get_count(&st, MPI_BYTE, &bytes);
    std::string message(static_cast<size_t>(bytes), '\0');
    MPI_Recv(message.data(), bytes, MPI_BYTE, st.MPI_SOURCE, kTagReady, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    RunOutcome o;
    const int index = unpack(message, o);
    if (index >= 0) finished(index, o);
    int work = take();
    MPI_Send(&work, 1, MPI_INT, st.MPI_SOURCE, kTagWork, MPI_COMM_WORLD);
    if (work < 0) --workers;
  }
  own.join();
  return finish_sweep(args, plan, outcomes, out);
}

}  // namespace chimera
