#include "engine/threads.h"

#include <cblas.h>
#include <omp.h>
#include <sched.h>

#include <thread>

#include "engine/error.h"

namespace chimera {

std::vector<int> allowed_cpu_ids() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> ids;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return ids;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) ids.push_back(c);
  return ids;
}

// The allowed CPUs, not all the machine's: under `taskset -c 1` or a container's CPU set, one
// thread per machine CPU put two threads on one CPU (a pinned one-thread comparison ran two).
int hardware_threads() {
  const auto allowed = allowed_cpu_ids().size();
  if (allowed > 0) return static_cast<int>(allowed);
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

static int g_threads = 0;

void set_num_threads(int n) {
  CHIMERA_CHECK(n >= 1, "thread count must be at least 1, got ", n);
  g_threads = n;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() {
  if (g_threads == 0) set_num_threads(hardware_threads());
  return g_threads;
}

OneThreadScope::OneThreadScope() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
OneThreadScope::~OneThreadScope() { omp_set_num_threads(saved_); }

}  // namespace chimera
