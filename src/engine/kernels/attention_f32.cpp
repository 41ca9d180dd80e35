#include "engine/kernels/attention_f32.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels/attention_decode_f32.h"
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

// The last key query i may see.
int64_t last_key(const AttentionShape& a, int64_t i) { return a.kv_len - a.q_len + i; }

// Queries are taken in blocks of kQueryBlock rows, each multiplied only with the keys its last
// row may see: a causal prompt (q_len = kv_len) then does a little over half of the full
// products (56 % at 512 tokens). Probabilities past a row's last key are stored as zeros.
constexpr int64_t kQueryBlock = 64;

}  // namespace

void attention_forward_f32(const AttentionShape& a, const float* q, const float* k,
                           const float* v, float* out, float* p) {
  const Strides st = strides(a);
  const int64_t group = a.heads / a.kv_heads, hd = a.head_dim;
  const int64_t q_blocks = (a.q_len + kQueryBlock - 1) / kQueryBlock;
  // One item per (batch, key/value head, query block): the group's query heads share the keys
  // and values, so their rows go through each product together, [group * rows, hd] at a time.
  // One packing of k and v then serves the whole group, and the products are 4x taller (GQA with
  // 4 heads per group, one layer at 512 tokens, 1 thread, AVX2: 14 % less time than one head at a
  // time). The rows are copied to and from contiguous scratch, because the heads of a token lie
  // side by side in q and out.
  //   s = scale * q k^T (the scale is the gemm's alpha: one multiply of each sum, as a separate
  //   pass would); then softmax per row, out = s v.
  parallel_for(a.batch * a.kv_heads * q_blocks,
               group * std::min(kQueryBlock, a.q_len) * a.kv_len * hd,
               [&](int64_t item) {
    const int64_t bg = item / q_blocks, b = bg / a.kv_heads, g = bg % a.kv_heads;
    const int64_t i0 = item % q_blocks * kQueryBlock, rows = std::min(kQueryBlock, a.q_len - i0);
    const int64_t keys = last_key(a, i0 + rows - 1) + 1, m = group * rows;
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(m * (2 * hd + keys)));
    float* qs = scratch.data();  // [m, hd], row hh * rows + r: head g * group + hh, query i0 + r
    float* os = qs + m * hd;     // [m, hd], the same rows of out
    float* ss = os + m * hd;     // [m, keys]
    auto q_row = [&](int64_t hh, int64_t r) {
      return q + st.q_at(a, b, g * group + hh) + (i0 + r) * st.q_row;
    };
    auto out_row = [&](int64_t hh, int64_t r) {
      return out + st.q_at(a, b, g * group + hh) + (i0 + r) * st.q_row;
    };
    auto keep_probabilities = [&](int64_t hh, int64_t r, const float* row) {
      if (!p) return;
      float* prow = p + st.p_at(a, b, g * group + hh) + (i0 + r) * a.kv_len;
      std::copy_n(row, keys, prow);
      std::fill(prow + keys, prow + a.kv_len, 0.0f);
    };
    auto normalize = [&](int64_t hh, int64_t r) {
      float* row = ss + (hh * rows + r) * keys;
      softmax_f32(last_key(a, i0 + r) + 1, keys, row);
      keep_probabilities(hh, r, row);
    };
    if (rows == 1) {  // one query (decoding): the fused kernel for the group's heads
      attention_decode_f32({keys, group, hd, a.scale, q_row(0, 0), hd, k + st.kv_at(a, b, g),
                            st.kv_row, v + st.kv_at(a, b, g), st.kv_row, ss, out_row(0, 0), hd});
      for (int64_t hh = 0; hh < group; ++hh) keep_probabilities(hh, 0, ss + hh * keys);
      return;
    }
    for (int64_t hh = 0; hh < group; ++hh)
      for (int64_t r = 0; r < rows; ++r) std::copy_n(q_row(hh, r), hd, qs + (hh * rows + r) * hd);
    gemm_f32(false, true, m, keys, hd, a.scale, qs, hd, k + st.kv_at(a, b, g), st.kv_row, 0.0f,
             ss, keys);
    for (int64_t hh = 0; hh < group; ++hh)
      for (int64_t r = 0; r < rows; ++r) normalize(hh, r);
    gemm_f32(false, false, m, hd, keys, 1.0f, ss, keys, v + st.kv_at(a, b, g), st.kv_row, 0.0f,
             os, hd);
    for (int64_t hh = 0; hh < group; ++hh)
      for (int64_t r = 0; r < rows; ++r) std::copy_n(os + (hh * rows + r) * hd, hd, out_row(hh, r));
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
