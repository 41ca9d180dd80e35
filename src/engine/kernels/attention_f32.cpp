#include "engine/kernels/attention_f32.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels/elementwise_f32.h"
#include "engine/kernels/gemm_f32.h"
#include "engine/threads.h"

namespace chimera {

namespace {

// Row strides of the token-major layouts and where one (batch, head) block starts.
struct Strides {
  int64_t q_row, kv_row;
  int64_t q_at(const AttentionShape& a, int64_t b, int64_t h) const {
    return b * a.q_len * q_row + h * a.head_dim;
  }
  int64_t kv_at(const AttentionShape& a, int64_t b, int64_t g) const {
    return b * a.kv_len * kv_row + g * a.head_dim;
  }
  int64_t p_at(const AttentionShape& a, int64_t b, int64_t h) const {
    return (b * a.heads + h) * a.q_len * a.kv_len;
  }
};

Strides strides(const AttentionShape& a) { return {a.heads * a.head_dim, a.kv_heads * a.head_dim}; }

// Max and double sum of x[0, n) (n >= 1) in kLanes independent lanes, so the loops vectorize
// without reassociating anything and no step waits on the one before.
constexpr int64_t kLanes = 8;
float row_max(const float* x, int64_t n) {
  float m[kLanes];
  for (int64_t l = 0; l < kLanes; ++l) m[l] = x[0];
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) m[l] = m[l] > x[j + l] ? m[l] : x[j + l];
  for (; j < n; ++j) m[0] = m[0] > x[j] ? m[0] : x[j];
  float out = m[0];
  for (int64_t l = 1; l < kLanes; ++l) out = out > m[l] ? out : m[l];
  return out;
}
double row_sum(const float* x, int64_t n) {
  double s[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) s[l] += x[j + l];
  for (; j < n; ++j) s[0] += x[j];
  double out = 0.0;
  for (int64_t l = 0; l < kLanes; ++l) out += s[l];
  return out;
}

// The last key query i may see.
int64_t last_key(const AttentionShape& a, int64_t i) { return a.kv_len - a.q_len + i; }

// Queries are taken in blocks of kQueryBlock rows, each multiplied only with the keys its last
// row may see: a causal prompt (q_len = kv_len) then does a little over half of the full
// products (56 % at 512 tokens). Probabilities past a row's last key are stored as zeros.
constexpr int64_t kQueryBlock = 64;

// p = softmax(row[0, n)) in place, zeros in [n, width).
void softmax_row(float* row, int64_t n, int64_t width) {
  const float m = row_max(row, n);
  for (int64_t j = 0; j < n; ++j) row[j] -= m;
  exp_f32(n, row, row);
  const float inv = static_cast<float>(1.0 / row_sum(row, n));
  for (int64_t j = 0; j < n; ++j) row[j] *= inv;
  std::fill(row + n, row + width, 0.0f);
}

}  // namespace

void attention_forward_f32(const AttentionShape& a, const float* q, const float* k,
                           const float* v, float* out, float* p) {
  const Strides st = strides(a);
  const int64_t group = a.heads / a.kv_heads;
  // s = scale * q k^T (the scale is the gemm's alpha: one multiply of each sum, as a separate
  // pass would); then softmax per row, out = p v.
  parallel_for(a.batch * a.heads, a.q_len * a.kv_len * a.head_dim, [&](int64_t bh) {
    const int64_t b = bh / a.heads, h = bh % a.heads, g = h / group;
    float* pb = p + st.p_at(a, b, h);
    for (int64_t i0 = 0; i0 < a.q_len; i0 += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, a.q_len - i0);
      const int64_t keys = last_key(a, i0 + rows - 1) + 1;
      float* pr = pb + i0 * a.kv_len;
      gemm_f32(false, true, rows, keys, a.head_dim, a.scale, q + st.q_at(a, b, h) + i0 * st.q_row,
               st.q_row, k + st.kv_at(a, b, g), st.kv_row, 0.0f, pr, a.kv_len);
      for (int64_t i = i0; i < i0 + rows; ++i)
        softmax_row(pb + i * a.kv_len, last_key(a, i) + 1, a.kv_len);
      gemm_f32(false, false, rows, a.head_dim, keys, 1.0f, pr, a.kv_len, v + st.kv_at(a, b, g),
               st.kv_row, 0.0f, out + st.q_at(a, b, h) + i0 * st.q_row, st.q_row);
    }
  });
}

// Per (batch, key/value head), its query heads in order:
//   dv += p^T dout; dp = dout v^T; ds = p * (dp - rowsum(dp * p)) * scale;
//   dq = ds k; dk += ds^T q
void attention_backward_f32(const AttentionShape& a, const float* q, const float* k,
                            const float* v, const float* p, const float* dout, float* dq,
                            float* dk, float* dv) {
  const Strides st = strides(a);
  const int64_t group = a.heads / a.kv_heads;
  parallel_for(a.batch * a.kv_heads, group * a.q_len * a.kv_len * a.head_dim, [&](int64_t bg) {
    const int64_t b = bg / a.kv_heads, g = bg % a.kv_heads;
    std::vector<float> ds(static_cast<size_t>(a.q_len * a.kv_len));
    for (int64_t h = g * group; h < (g + 1) * group; ++h) {
      const float beta = h == g * group ? 0.0f : 1.0f;  // the group's first head overwrites
      const float* pb = p + st.p_at(a, b, h);
      const float* dob = dout + st.q_at(a, b, h);
      gemm_f32(true, false, a.kv_len, a.head_dim, a.q_len, 1.0f, pb, a.kv_len, dob, st.q_row,
               beta, dv + st.kv_at(a, b, g), st.kv_row);
      gemm_f32(false, true, a.q_len, a.kv_len, a.head_dim, 1.0f, dob, st.q_row,
               v + st.kv_at(a, b, g), st.kv_row, 0.0f, ds.data(), a.kv_len);
      for (int64_t i = 0; i < a.q_len; ++i) {
        float* row = ds.data() + i * a.kv_len;
        const float* prow = pb + i * a.kv_len;
        const int64_t last = last_key(a, i);
        double dot = 0.0;
        for (int64_t j = 0; j <= last; ++j) dot += static_cast<double>(row[j]) * prow[j];
        const auto d = static_cast<float>(dot);
        for (int64_t j = 0; j <= last; ++j) row[j] = prow[j] * (row[j] - d) * a.scale;
        std::fill(row + last + 1, row + a.kv_len, 0.0f);
      }
      gemm_f32(false, false, a.q_len, a.head_dim, a.kv_len, 1.0f, ds.data(), a.kv_len,
               k + st.kv_at(a, b, g), st.kv_row, 0.0f, dq + st.q_at(a, b, h), st.q_row);
      gemm_f32(true, false, a.kv_len, a.head_dim, a.q_len, 1.0f, ds.data(), a.kv_len,
               q + st.q_at(a, b, h), st.q_row, beta, dk + st.kv_at(a, b, g), st.kv_row);
    }
  });
}

}  // namespace chimera
