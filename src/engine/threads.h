// One thread setting for the whole engine: our OpenMP loops and OpenBLAS follow it.
// Work is split statically, so a given thread count always gives the same results.
#pragma once

#include <cstdint>

namespace chimera {

int hardware_threads();
void set_num_threads(int n);  // n >= 1; also sets OpenBLAS
int num_threads();

// Below this much work a parallel region costs more than it saves.
inline constexpr int64_t kParallelMinWork = int64_t{1} << 15;

// Runs f(i) for i in [0, n), split statically over the threads; `work_per_item` is a rough
// element count per i, so that a few heavy items (channels, rows) still run in parallel. Small
// loops are tested here, not in an OpenMP if() clause: a false clause still enters the runtime
// (about half a microsecond a call), which dominates the tiny tensors of the stress experiments.
template <class F>
void parallel_for(int64_t n, int64_t work_per_item, F f) {
  if (n * work_per_item < kParallelMinWork) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
}

template <class F>
void parallel_for(int64_t n, F f) {
  parallel_for(n, 1, f);
}

}  // namespace chimera
