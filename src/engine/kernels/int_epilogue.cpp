#include "engine/kernels/int_epilogue.h"

#include "engine/error.h"
#include "engine/threads.h"

namespace chimera {

namespace {

// y[i] for the n outputs of channels c0, c0 + step, ... (step 0: one channel throughout, step 1:
// consecutive channels) at elements e0, e0 + 1, ...
void scale_run(const int32_t* a, int64_t n, int64_t c0, int64_t step, int64_t e0,
               const AccScale& s, float* out) {
  if (!s.bn_mul && !s.residual && !s.relu) {  // the training path: loops the compiler vectorises
    const float clip = s.clip, scale = s.scale;
    if (!s.bias)
      for (int64_t i = 0; i < n; ++i) out[i] = scale * (clip * static_cast<float>(a[i]));
    else if (step == 0)
      for (int64_t i = 0; i < n; ++i) out[i] = scale * (clip * static_cast<float>(a[i])) + s.bias[c0];
    else
      for (int64_t i = 0; i < n; ++i)
        out[i] = scale * (clip * static_cast<float>(a[i])) + s.bias[c0 + i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = epilogue_ref(s, a[i], c0 + step * i, e0 + i);
}

}  // namespace

void scale_acc_f32(int64_t outer, int64_t channels, int64_t inner, const int32_t* acc,
                   const AccScale& s, float* y) {
  if (inner == 1) {  // a linear layer: one row of `channels` outputs per sample
    parallel_for(outer, channels, [&](int64_t row) {
      scale_acc_block_f32(1, channels, acc + row * channels, channels, s, row, 0,
                          y + row * channels, channels);
    });
    return;
  }
  CHIMERA_CHECK(!s.row_scale, "per-row activation scales are for linear layers (inner = 1)");
  parallel_for(outer * channels, inner, [&](int64_t row) {
    scale_run(acc + row * inner, inner, row % channels, 0, row * inner, s, y + row * inner);
  });
}

void scale_acc_block_f32(int64_t rows, int64_t cols, const int32_t* acc, int64_t ldacc,
                         const AccScale& s, int64_t row0, int64_t col0, float* y, int64_t ldy) {
  for (int64_t r = 0; r < rows; ++r) {
    AccScale rs = s;
    if (s.row_scale) rs.scale = s.row_scale[row0 + r];
    scale_run(acc + r * ldacc, cols, col0, 1, (row0 + r) * ldy + col0, rs, y + r * ldy);
  }
}

}  // namespace chimera
