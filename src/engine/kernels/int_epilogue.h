// The float output of an exact integer product (the ternary layers' step 7 of SPEC §2):
//   y = scale * (clip * float(acc)) + bias[channel]
// with the float operations in that order (the reference multiplies the 0-d scale beta * gamma
// by the clipped product, then adds the bias). For inference the ops that follow a convolution
// in a network can ride along, each the same float operation the unfused op performs, in the
// unfused order:
//   y = fma(y, bn_mul[channel], bn_add[channel])   BatchNorm in eval (batch_norm2d_eval_affine)
//   y = y + residual[i]                            the residual add (same index as y)
//   y = max(y, 0)                                  ReLU (-0 and NaN give +0, as relu_f32)
// Every path, fused into a kernel or not, computes exactly these operations, so the results are
// bit-identical to the unfused ops (tested per ISA).
#pragma once

#include <cstdint>

namespace chimera {

struct AccScale {
  float scale = 1.0f;           // beta * gamma
  // Linear layers with per-token activation scales: row r of the output uses row_scale[r]
  // (beta_r * gamma) in place of `scale`. Only with inner = 1 (scale_acc_f32).
  const float* row_scale = nullptr;
  float clip = 1.0f;            // the straight-through clip factor
  const float* bias = nullptr;  // one per channel, or none
  const float* bn_mul = nullptr;  // with bn_add: one per channel, or none
  const float* bn_add = nullptr;
  const float* residual = nullptr;  // shaped like y, or none
  bool relu = false;

  // The same epilogue for the channels from `channel` on and the outputs from `element` on.
  AccScale at(int64_t channel, int64_t element) const {
    AccScale s = *this;
    if (s.bias) s.bias += channel;
    if (s.bn_mul) s.bn_mul += channel, s.bn_add += channel;
    if (s.residual) s.residual += element;
    return s;
  }
};

// The scalar definition of one output: y for accumulator `acc` of channel c at element i.
inline float epilogue_ref(const AccScale& s, int32_t acc, int64_t c, int64_t i) {
  float v = s.scale * (s.clip * static_cast<float>(acc));
  if (s.bias) v = v + s.bias[c];
  if (s.bn_mul) v = __builtin_fmaf(v, s.bn_mul[c], s.bn_add[c]);
  if (s.residual) v = v + s.residual[i];
  if (s.relu) v = v > 0.0f ? v : 0.0f;
  return v;
}

// acc and y seen as [outer, channels, inner]. Multithreaded over rows; results never depend on
// the thread count.
void scale_acc_f32(int64_t outer, int64_t channels, int64_t inner, const int32_t* acc,
                   const AccScale& s, float* y);

// One block of a linear layer's output (inner = 1): rows [row0, row0 + rows) and channels
// [col0, col0 + cols) of y (row stride ldy; a residual is indexed like y) from acc (row stride
// ldacc, its first element that of y[row0][col0]). Single-threaded: for kernels that convert
// their sums block by block.
void scale_acc_block_f32(int64_t rows, int64_t cols, const int32_t* acc, int64_t ldacc,
                         const AccScale& s, int64_t row0, int64_t col0, float* y, int64_t ldy);

}  // namespace chimera
