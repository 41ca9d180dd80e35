// One query per head against a cache of keys and values: a decoding step's attention for the
// query heads that share one key/value head, its three steps fused in one call. Generating a
// token spent most of its non-projection time here: as two OpenBLAS sgemv calls per head (128 a
// token for 16 heads and 4 layers), each call's fixed cost was several times its 4096
// multiply-adds at 64 cached positions, and every head read the shared keys and values from L2
// again. No library we use fuses attention for one query, so it is written here, with a scalar
// reference.
//
// For head h < heads (query q + h * ldq, output out + h * ldo, probabilities p + h * keys):
//   s_j = scale * dot(q, k_j)   for j < keys, k_j at k + j * ldk (head_dim floats)
//   p = softmax(s)              softmax_f32
//   out[d] = sum_j p_j v_j[d]   v_j at v + j * ldv
//
// Fixed orders, the same bits on every path: a dot product keeps eight running sums (lane l
// takes d = l mod 8 over the whole blocks of eight, each step a fused multiply-add), combined as
// ((0+1)+(2+3))+((4+5)+(6+7)), then the remaining d in order, again by fused multiply-adds; out[d]
// adds p_j v_j[d] by fused multiply-adds in key order, starting from zero.
#pragma once

#include <cstdint>

namespace chimera {

struct DecodeAttention {
  int64_t keys, heads, head_dim;  // each >= 1
  float scale;
  const float* q;
  int64_t ldq;
  const float* k;
  int64_t ldk;
  const float* v;
  int64_t ldv;
  float* p;  // [heads, keys]
  float* out;
  int64_t ldo;
};

// p and out must not overlap the inputs.
void attention_decode_f32(const DecodeAttention& a);

// The per-ISA loops behind it (AVX-512 machines run the AVX2 one).
void attention_decode_f32__scalar(const DecodeAttention& a);
void attention_decode_f32__avx2(const DecodeAttention& a);

}  // namespace chimera
