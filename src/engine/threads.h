// One thread setting for the whole engine: our OpenMP loops and OpenBLAS follow it.
// Work is split statically, so a given thread count always gives the same results.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace chimera {

// The CPUs this process may run on (its affinity: `taskset`, a container's CPU set), ascending;
// empty if the system will not say.
std::vector<int> allowed_cpu_ids();
// The default thread count: how many CPUs this process may run on, else the machine's count.
int hardware_threads();
void set_num_threads(int n);  // n >= 1; also sets OpenBLAS
int num_threads();

// While alive, libraries that size their work when an object is built (oneDNN primitives) see
// one thread: for primitives that each thread of a parallel loop runs on its own share.
class OneThreadScope {
 public:
  OneThreadScope();
  ~OneThreadScope();
  OneThreadScope(const OneThreadScope&) = delete;
  OneThreadScope& operator=(const OneThreadScope&) = delete;

 private:
  int saved_;
};

// Below this much work a parallel region costs more than it saves.
inline constexpr int64_t kParallelMinWork = int64_t{1} << 15;

// Runs f(i) for i in [0, n), split statically over the threads; `work_per_item` is a rough
// element count per i, so that a few heavy items (channels, rows) still run in parallel. Small
// loops are tested here, not in an OpenMP if() clause: a false clause still enters the runtime
// (about half a microsecond a call), which dominates the tiny tensors of the stress experiments.
template <class F>
void parallel_for(int64_t n, int64_t work_per_item, F f) {
  // One item has nothing to share: entering a parallel region would only wake the other
  // threads (a 1.5-4x slowdown of batch-1 decoding on 2 threads, where every activation
  // quantization was one block). One thread has no one to share with: the runtime's entry and
  // exit would be all a region adds.
  if (n <= 1 || n * work_per_item < kParallelMinWork || num_threads() == 1) {
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

// Runs f(begin, end) on consecutive blocks of [0, n), split over the threads: for the
// single-threaded kernels of kernels/elementwise_f32.h on whole tensors. Each element belongs to
// one block whatever the thread count, so elementwise results never depend on it.
constexpr int64_t kForBlock = int64_t{1} << 14;  // elements per block: 64 KB of floats
template <class F>
void for_blocks(int64_t n, F f) {
  const int64_t blocks = (n + kForBlock - 1) / kForBlock;
  parallel_for(blocks, kForBlock,
               [&](int64_t b) { f(b * kForBlock, std::min(n, (b + 1) * kForBlock)); });
}

}  // namespace chimera
