// Loops shared by the op files. Every loop writes each output element from one iteration, and
// every float reduction runs in a fixed order (see sum_terms), so results never depend on the
// thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#include "engine/kernels/reduce_f64.h"
#include "engine/tensor.h"
#include "engine/threads.h"

namespace chimera {

// A new f32 tensor with out[i] = f(i).
template <class F>
Tensor generate(const Shape& shape, F f) {
  Tensor out = Tensor::empty(shape);
  float* o = out.f32();
  parallel_for(out.numel(), [&](int64_t i) { o[i] = f(i); });
  return out;
}

// Runs f(begin, end) on consecutive blocks of [0, n), split over the threads: for the
// single-threaded kernels of kernels/elementwise_f32.h on whole tensors.
template <class F>
void for_blocks(int64_t n, F f) {
  constexpr int64_t kBlock = int64_t{1} << 14;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, kBlock, [&](int64_t b) { f(b * kBlock, std::min(n, (b + 1) * kBlock)); });
}


}  // namespace chimera
