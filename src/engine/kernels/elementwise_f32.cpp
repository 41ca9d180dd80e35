#include "engine/kernels/elementwise_f32.h"

namespace chimera {

void axpy_f32(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace chimera
