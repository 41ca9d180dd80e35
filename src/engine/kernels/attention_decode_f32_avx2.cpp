// AVX2 + FMA loops of attention_decode_f32.h. Only intrinsics here (see
// elementwise_f32_avx2.cpp for why): a scalar fused multiply-add is fma1 below, not std::fma.
#include <immintrin.h>

#include "engine/kernels/attention_decode_f32.h"
#include "engine/kernels/elementwise_f32.h"

namespace chimera {

namespace {

float fma1(float a, float b, float c) {
  return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

// Scores of 8 keys (rows kr[0..7]) for one head: eight dot products side by side (one vector of
// lanes each), then reduced together by horizontal adds, which combine the lanes exactly in the
// header's order: hadd twice gives (0+1)+(2+3) in the low half and (4+5)+(6+7) in the high half
// of each key's slot, and the halves are added last. Writes `count` <= 8 scores.
__attribute__((always_inline)) inline void scores8(const float* const* kr, int64_t head_dim,
                                                   float scale, const float* q, int64_t count,
                                                   float* p) {
  __m256 acc[8];
  for (auto& x : acc) x = _mm256_setzero_ps();
  int64_t d = 0;
  for (; d + 8 <= head_dim; d += 8) {
    const __m256 qv = _mm256_loadu_ps(q + d);
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(kr[r] + d), acc[r]);
  }
  const __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
  const __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
  __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20),
                              _mm256_permute2f128_ps(h0, h1, 0x31));
  if (d < head_dim) {  // the remaining d of each key, in order
    alignas(32) float s[8];
    _mm256_store_ps(s, sums);
    for (int r = 0; r < 8; ++r)
      for (int64_t t = d; t < head_dim; ++t) s[r] = fma1(q[t], kr[r][t], s[r]);
    sums = _mm256_load_ps(s);
  }
  sums = _mm256_mul_ps(_mm256_set1_ps(scale), sums);
  if (count == 8) {
    _mm256_storeu_ps(p, sums);
  } else {
    alignas(32) float s[8];
    _mm256_store_ps(s, sums);
    for (int64_t r = 0; r < count; ++r) p[r] = s[r];
  }
}

// out[d0, d0 + 8 * NV) = sum_j p_j v_j over those features, the sums in registers.
template <int NV>
void weighted_sum(int64_t keys, const float* p, const float* v, int64_t ldv, int64_t d0,
                  float* out) {
  __m256 acc[NV];
  for (auto& x : acc) x = _mm256_setzero_ps();
  for (int64_t j = 0; j < keys; ++j) {
    const __m256 pj = _mm256_set1_ps(p[j]);
    const float* vj = v + j * ldv + d0;
    for (int u = 0; u < NV; ++u) acc[u] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(vj + 8 * u), acc[u]);
  }
  for (int u = 0; u < NV; ++u) _mm256_storeu_ps(out + d0 + 8 * u, acc[u]);
}

}  // namespace

void attention_decode_f32__avx2(const DecodeAttention& a) {
  // Keys outer, heads inner: each block of 8 key rows comes from L2 once for all the heads.
  // Past the last key the rows repeat it; those scores are not stored.
  for (int64_t j0 = 0; j0 < a.keys; j0 += 8) {
    const float* kr[8];
    for (int64_t r = 0; r < 8; ++r) kr[r] = a.k + (j0 + r < a.keys ? j0 + r : a.keys - 1) * a.ldk;
    const int64_t count = a.keys - j0 < 8 ? a.keys - j0 : 8;
    for (int64_t h = 0; h < a.heads; ++h)
      scores8(kr, a.head_dim, a.scale, a.q + h * a.ldq, count, a.p + h * a.keys + j0);
  }
  for (int64_t h = 0; h < a.heads; ++h) {
    const float* p = a.p + h * a.keys;
    float* out = a.out + h * a.ldo;
    softmax_f32__avx2(a.keys, a.keys, a.p + h * a.keys);
    int64_t d = 0;
    for (; d + 64 <= a.head_dim; d += 64) weighted_sum<8>(a.keys, p, a.v, a.ldv, d, out);
    for (; d + 8 <= a.head_dim; d += 8) weighted_sum<1>(a.keys, p, a.v, a.ldv, d, out);
    for (; d < a.head_dim; ++d) {
      float s = 0.0f;
      for (int64_t j = 0; j < a.keys; ++j) s = fma1(p[j], a.v[j * a.ldv + d], s);
      out[d] = s;
    }
  }
}

}  // namespace chimera
