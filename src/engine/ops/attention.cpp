// Causal self-attention as one op: the probabilities are kept for the backward.
#include <cmath>

#include "engine/kernels/attention_f32.h"
#include "engine/ops/op_helpers.h"
#include "engine/ops/ops.h"

namespace chimera {

Var causal_attention(const Var& q, const Var& k, const Var& v) {
  CHIMERA_CHECK(q.value().dim() == 4 && k.value().dim() == 4 && k.shape() == v.shape(),
                "causal_attention: expected q [batch, tokens, heads, head_dim] and k, v of one "
                "shape [batch, tokens, kv_heads, head_dim], got q ",
                shape_str(q.shape()), ", k ", shape_str(k.shape()), ", v ", shape_str(v.shape()));
  const Shape &qs = q.shape(), &ks = k.shape();
  CHIMERA_CHECK(qs[0] == ks[0] && qs[3] == ks[3] && ks[2] > 0 && qs[2] % ks[2] == 0 &&
                    qs[1] <= ks[1] && qs[1] > 0,
                "causal_attention: q ", shape_str(qs), " does not fit k/v ", shape_str(ks),
                " (same batch and head_dim, heads a multiple of kv_heads, no more queries than "
                "keys)");
  const AttentionShape a{qs[0], qs[1], ks[1], qs[2], ks[2], qs[3],
                         static_cast<float>(1.0 / std::sqrt(static_cast<double>(qs[3])))};
  Tensor out = Tensor::empty(qs);
  // The probabilities only for a backward: at 512 tokens they are 16 MB per layer to write.
  const bool backward = grad_enabled() && (q.requires_grad() || k.requires_grad() ||
                                           v.requires_grad());
  Tensor p = backward ? Tensor::empty({a.batch, a.heads, a.q_len, a.kv_len}) : Tensor();
  attention_forward_f32(a, q.value().f32(), k.value().f32(), v.value().f32(), out.f32(),
                        backward ? p.f32() : nullptr);
  return make_op("causal_attention", std::move(out), {q, k, v}, [q, k, v, p, a](const Tensor& g) {
    Tensor dq = Tensor::empty(q.shape()), dk = Tensor::empty(k.shape()),
           dv = Tensor::empty(v.shape());
    attention_backward_f32(a, q.value().f32(), k.value().f32(), v.value().f32(), p.f32(), g.f32(),
                           dq.f32(), dk.f32(), dv.f32());
    add_grad(q, dq);
    add_grad(k, dk);
    add_grad(v, dv);
  });
}

}  // namespace chimera
