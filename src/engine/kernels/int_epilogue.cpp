#include "engine/kernels/int_epilogue.h"

#include "engine/threads.h"

namespace chimera {

void scale_acc_f32(int64_t outer, int64_t channels, int64_t inner, const int32_t* acc,
                   const AccScale& s, float* y) {
  parallel_for(outer * channels, inner, [&](int64_t row) {
    const int32_t* a = acc + row * inner;
    float* out = y + row * inner;
    const int64_t c = row % channels;
    if (!s.bn_mul && !s.residual && !s.relu) {  // the training path: a loop the compiler vectorises
      const float clip = s.clip, scale = s.scale, b = s.bias ? s.bias[c] : 0.0f;
      if (s.bias)
        for (int64_t i = 0; i < inner; ++i) out[i] = scale * (clip * static_cast<float>(a[i])) + b;
      else
        for (int64_t i = 0; i < inner; ++i) out[i] = scale * (clip * static_cast<float>(a[i]));
      return;
    }
    for (int64_t i = 0; i < inner; ++i) out[i] = epilogue_ref(s, a[i], c, row * inner + i);
  });
}

}  // namespace chimera
