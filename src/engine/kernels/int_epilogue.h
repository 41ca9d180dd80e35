// The float output of an exact integer product (the ternary layers' step 7 of SPEC §2):
//   y = scale * (clip * float(acc)) + bias[channel]
// with the float operations in that order (the reference multiplies the 0-d scale beta * gamma
// by the clipped product, then adds the bias). Every path, fused into a kernel or not, computes
// exactly these operations, so the results are bit-identical.
#pragma once

#include <cstdint>

namespace chimera {

struct AccScale {
  float scale = 1.0f;           // beta * gamma
  float clip = 1.0f;            // the straight-through clip factor
  const float* bias = nullptr;  // one per channel, or none
};

// acc and y seen as [outer, channels, inner]. Multithreaded over rows; results never depend on
// the thread count.
void scale_acc_f32(int64_t outer, int64_t channels, int64_t inner, const int32_t* acc,
                   const AccScale& s, float* y);

}  // namespace chimera
