// Loops shared by the op files. Every loop writes each output element from one iteration, and
// every float reduction runs in a fixed order (see sum_terms), so results never depend on the
// thread count.
#pragma once

#include <cstdint>

#include "engine/tensor.h"
#include "engine/threads.h"

namespace chimera {

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
