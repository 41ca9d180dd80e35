#include "engine/kernels/attention_f32.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

// The last key query i may see.
int64_t last_key(const AttentionShape& a, int64_t i) { return a.kv_len - a.q_len + i; }

}  // namespace

void attention_forward_f32(const AttentionShape& a, const float* q, const float* k,
                           const float* v, float* out, float* p) {
  const Strides st = strides(a);
  const int64_t group = a.heads / a.kv_heads;
  parallel_for(a.batch * a.heads, a.q_len * a.kv_len * a.head_dim, [&](int64_t bh) {
    const int64_t b = bh / a.heads, h = bh % a.heads, g = h / group;
    float* pb = p + st.p_at(a, b, h);
    // s = q k^T, then scaled, masked and normalised row by row in place.
    gemm_f32(false, true, a.q_len, a.kv_len, a.head_dim, 1.0f, q + st.q_at(a, b, h), st.q_row,
             k + st.kv_at(a, b, g), st.kv_row, 0.0f, pb, a.kv_len);
    for (int64_t i = 0; i < a.q_len; ++i) {
      float* row = pb + i * a.kv_len;
      const int64_t last = last_key(a, i);
      float m = -INFINITY;
      for (int64_t j = 0; j <= last; ++j) {
        row[j] = row[j] * a.scale;
        m = std::max(m, row[j]);
      }
      double sum = 0.0;
      for (int64_t j = 0; j <= last; ++j) {
        row[j] = std::exp(row[j] - m);
        sum += row[j];
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = 0; j <= last; ++j) row[j] *= inv;
      std::fill(row + last + 1, row + a.kv_len, 0.0f);
    }
    gemm_f32(false, false, a.q_len, a.head_dim, a.kv_len, 1.0f, pb, a.kv_len,
             v + st.kv_at(a, b, g), st.kv_row, 0.0f, out + st.q_at(a, b, h), st.q_row);
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
