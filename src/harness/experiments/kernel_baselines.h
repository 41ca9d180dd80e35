// What `chimera bench kernels` measures the packed ternary kernels against: the same product
// in float32 on OpenBLAS and in int8 x int8 on oneDNN (each set up once, so only the product is
// timed), the machine's memory bandwidth, and the timer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace chimera {

// Wall time of fn() in milliseconds over at least `min_repeats` runs and at least
// `min_seconds` of running, after one untimed warm-up run: the median (what we report) and
// the minimum (what the hardware can do when nothing else runs on the machine). `between`, if
// set, runs untimed before every timed run (e.g. to evict the caches).
struct Timing {
  double median_ms, min_ms;
};
Timing time_ms(const std::function<void()>& fn, int min_repeats, double min_seconds,
               const std::function<void()>& between = {});

// C = A W^T in float32: cblas_sgemv for M = 1, else sgemm (gemm_f32). A [M, K], W [N, K] are
// the int8 operands converted once.
class F32Matmul {
 public:
  F32Matmul(int64_t M, int64_t N, int64_t K, const int8_t* A, const int8_t* W);
  void run();
  const std::vector<float>& result() const { return c_; }

 private:
  int64_t M_, N_, K_;
  std::vector<float> a_, w_, c_;
};

// C = A W^T with oneDNN's matmul primitive, s8 x s8 -> s32: primitive created and weights
// reordered into its preferred layout once; run() executes it.
class DnnlInt8Matmul {
 public:
  DnnlInt8Matmul(int64_t M, int64_t N, int64_t K, const int8_t* A, const int8_t* W);
  ~DnnlInt8Matmul();
  void run();
  const int32_t* result() const;
  const char* implementation() const;  // oneDNN's name for the kernel it chose

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Copy bandwidth: memcpy of `bytes` between two buffers, split over the threads, counted as
// bytes read + bytes written per second (the STREAM "copy" convention), in GB/s (1e9 B/s),
// from the median and the fastest run.
struct Bandwidth {
  double median_gbps, best_gbps;
};
Bandwidth copy_gbps(int64_t bytes);
// Read bandwidth over a working set of `bytes`, each thread streaming its contiguous share
// again and again, as the GEMV does with its weights; GB/s of bytes read. For a set that fits
// in the caches this is the cache's limit, past them DRAM's.
Bandwidth read_gbps(int64_t bytes);

// Reads `bytes` of otherwise unused memory, so that what ran before is out of the caches.
class CacheFlusher {
 public:
  explicit CacheFlusher(int64_t bytes);
  void operator()();

 private:
  std::vector<char> buffer_;
};

}  // namespace chimera
