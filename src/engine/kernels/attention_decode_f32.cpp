#include "engine/kernels/attention_decode_f32.h"

#include <cmath>

#include "engine/kernels/elementwise_f32.h"
#include "engine/kernels/isa.h"

namespace chimera {

namespace {

// Every AVX2 CPU has FMA in practice, but the AVX2 path checks for it anyway.
auto kernel() {
  static const auto k = active_isa() != Isa::scalar && __builtin_cpu_supports("fma")
                            ? attention_decode_f32__avx2
                            : attention_decode_f32__scalar;
  return k;
}

// The header's dot product: eight lanes, their fixed combination, then the tail in order.
float dot_lanes8(int64_t n, const float* a, const float* b) {
  float lane[8] = {};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8)
    for (int l = 0; l < 8; ++l) lane[l] = std::fma(a[d + l], b[d + l], lane[l]);
  float s =
      ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  for (; d < n; ++d) s = std::fma(a[d], b[d], s);
  return s;
}

}  // namespace

void attention_decode_f32(const DecodeAttention& a) { kernel()(a); }

void attention_decode_f32__scalar(const DecodeAttention& a) {
  for (int64_t h = 0; h < a.heads; ++h) {
    float* p = a.p + h * a.keys;
    for (int64_t j = 0; j < a.keys; ++j)
      p[j] = a.scale * dot_lanes8(a.head_dim, a.q + h * a.ldq, a.k + j * a.ldk);
    softmax_f32__scalar(a.keys, a.keys, p);
    for (int64_t d = 0; d < a.head_dim; ++d) {
      float s = 0.0f;
      for (int64_t j = 0; j < a.keys; ++j) s = std::fma(p[j], a.v[j * a.ldv + d], s);
      a.out[h * a.ldo + d] = s;
    }
  }
}

}  // namespace chimera
