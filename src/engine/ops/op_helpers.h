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

}  // namespace chimera
