// Loops shared by the op files. Every loop writes each output element from one iteration, and
// every float reduction runs in a fixed order (see sum_terms), so results never depend on the
// thread count.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

namespace chimera {

// Below this much work a parallel region costs more than it saves.
inline constexpr int64_t kParallelMinWork = int64_t{1} << 15;

// Runs f(i) for i in [0, n), split statically over the threads; `work_per_item` is a rough
// element count per i, so that a few heavy items (channels, rows) still run in parallel.
template <class F>
void parallel_for(int64_t n, int64_t work_per_item, F f) {
#pragma omp parallel for schedule(static) if (n * work_per_item >= kParallelMinWork)
  for (int64_t i = 0; i < n; ++i) f(i);
}

template <class F>
void parallel_for(int64_t n, F f) {
  parallel_for(n, 1, f);
}

// A new f32 tensor with out[i] = f(i).
template <class F>
Tensor generate(const Shape& shape, F f) {
  Tensor out(shape);
  float* o = out.f32();
  parallel_for(out.numel(), [&](int64_t i) { o[i] = f(i); });
  return out;
}

// Sum of term(i) for i in [0, n) in double. Eight running sums (lane k takes i = k mod 8) are
// combined in a fixed order at the end: faster than one chain, and the same bits on every run.
template <class F>
double sum_terms(int64_t n, F term) {
  double lane[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += term(i + k);
  double s =
      ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; i < n; ++i) s += term(i);
  return s;
}

inline double sum_f64(const float* x, int64_t n) {
  return sum_terms(n, [x](int64_t i) { return static_cast<double>(x[i]); });
}

}  // namespace chimera
