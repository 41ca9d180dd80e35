// Causal scaled dot-product attention in float, the matrix products on OpenBLAS.
//
// Layouts are the ones a transformer's projections produce, so no transposes are needed:
//   q [B, Tq, H, hd], k and v [B, Tk, G, hd] (G key/value heads, H a multiple of G: query head h
//   reads key/value head h / (H / G)), out [B, Tq, H, hd], probabilities p [B, H, Tq, Tk].
// Query i sits at position Tk - Tq + i and sees keys 0 .. Tk - Tq + i: training has Tq = Tk, a
// decoder with a cache of Tk - Tq earlier positions has Tq new ones.
//   s = (q k^T) * scale, masked above the causal diagonal; p = softmax(s) per row; out = p v
#pragma once

#include <cstdint>

namespace chimera {

struct AttentionShape {
  int64_t batch, q_len, kv_len, heads, kv_heads, head_dim;
  float scale;  // usually 1 / sqrt(head_dim)
};

// Fills out, and p unless it is null (inference needs no probabilities). Multithreaded over
// (batch, key/value head, block of queries); results never depend on the thread count.
void attention_forward_f32(const AttentionShape& a, const float* q, const float* k,
                           const float* v, float* out, float* p);

// Gradients from dout and the forward's p: dq [like q], dk and dv [like k, v] (overwritten).
// The heads that share a key/value head add into it in head order.
void attention_backward_f32(const AttentionShape& a, const float* q, const float* k,
                            const float* v, const float* p, const float* dout, float* dq,
                            float* dk, float* dv);

}  // namespace chimera
