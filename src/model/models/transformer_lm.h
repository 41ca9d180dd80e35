// A decoder-only transformer language model in the BitNet b1.58 style, a sibling of ResNet-20:
// token embedding; N blocks of RMSNorm -> causal multi-head self-attention with rotary
// positions (grouped-query when kv_heads < heads) -> residual, RMSNorm -> feed-forward (SwiGLU,
// or ReLU^2 as BitNet b1.58 2B4T) -> residual; final RMSNorm; output head. Every projection
// (q, k, v, o and the feed-forward's) is float in fp32_baseline and a BitLinear in the ternary
// modes; the embedding, the norms and the output head stay float, as in BitNet.
//
// State-dict names follow Meta's LLaMA checkpoints (tok_embeddings, layers.N.attention.wq, ...,
// feed_forward.w1 gate / w3 up / w2 down, norm, output), the names GGUF converters start from.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "model/layers/embedding.h"
#include "model/layers/float_or_ternary.h"
#include "model/layers/rms_norm.h"
#include "model/models/model_mode.h"
#include "model/models/model_stats.h"

namespace chimera {

enum class FeedForwardKind { swiglu, relu2 };
FeedForwardKind parse_feed_forward(const std::string& s);
const char* feed_forward_name(FeedForwardKind f);

struct TransformerOptions {
  ModelMode mode = ModelMode::chimera;
  BitLayerOptions layer;  // every ternary projection's settings; quant_mode comes from `mode`
  int64_t vocab_size = 256;
  int64_t dim = 128;
  int64_t layers = 4;
  int64_t heads = 4;
  int64_t kv_heads = 4;   // heads must be a multiple of it
  int64_t ffn_dim = 384;  // hidden width of the feed-forward
  int64_t context = 128;  // longest sequence
  FeedForwardKind feed_forward = FeedForwardKind::swiglu;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;

  int64_t head_dim() const { return dim / heads; }
  void validate() const;  // errors name the setting
};

// The options as JSON (checkpoint metadata, model files) and back: the shape, the mode and what
// an eval forward of the ternary layers needs (activation_scale, eps_beta). Errors name `source`.
nlohmann::json transformer_options_json(const TransformerOptions& o);
TransformerOptions transformer_options_from_json(const nlohmann::json& j,
                                                const std::string& source);

// Keys and values of earlier positions, one sequence, for decoding a token at a time. Per layer
// one buffer for the whole context, [context, kv_heads * head_dim], allocated at the first step;
// rows [0, length) are filled, and attention reads them in place (no copy per token).
struct KvCache {
  std::vector<Tensor> k, v;
  int64_t length = 0;
};

class Attention : public Module {
 public:
  Attention(const TransformerOptions& o, Rng& rng);
  void visit_children(const ChildFn& on_child) override;
  // x [B, T, dim]; positions first_position ..; with a cache (B = 1) the new keys and values
  // are appended and every cached position is attended.
  Var forward(const Var& x, int64_t first_position, Tensor* cache_k, Tensor* cache_v);

  LinearLayer wq, wk, wv, wo;

 private:
  int64_t heads_, kv_heads_, head_dim_, context_;
  double rope_theta_;
};

class FeedForward : public Module {
 public:
  FeedForward(const TransformerOptions& o, Rng& rng);
  void visit_children(const ChildFn& on_child) override;
  Var forward(const Var& x);  // [rows, dim] -> [rows, dim]

  LinearLayer w1, w2;
  std::optional<LinearLayer> w3;  // SwiGLU's up projection (w1 is its gate)
};

class TransformerBlock : public Module {
 public:
  TransformerBlock(const TransformerOptions& o, Rng& rng);
  void visit_children(const ChildFn& on_child) override;
  Var forward(const Var& x, int64_t first_position, Tensor* cache_k, Tensor* cache_v);

  RmsNorm attention_norm;
  Attention attention;
  RmsNorm ffn_norm;
  FeedForward feed_forward;
};

class TransformerLM : public Module {
 public:
  // Weights are drawn from `rng` in module order. Invalid settings are errors.
  TransformerLM(const TransformerOptions& options, Rng& rng);

  void visit_children(const ChildFn& on_child) override;
  // ids [B, T] i64 with T <= context -> logits [B * T, vocab]
  Var forward(const Tensor& ids);
  // The logits [T, vocab] of `ids` [1, T] following the cache's positions, which it extends
  // (inference: call under NoGradGuard in eval mode).
  Var forward_cached(const Tensor& ids, KvCache& cache);
  KvCache new_cache() const;

  const TransformerOptions& options() const { return options_; }
  // The ternary projections in module order (empty for fp32_baseline).
  const std::vector<TernaryLayer*>& quantized_layers() const { return quantized_; }
  ModelStats stats() const { return model_stats(quantized_); }
  void set_alpha_override(std::optional<double> alpha);
  void set_alpha_target(double alpha);

  Embedding tok_embeddings;
  std::vector<std::unique_ptr<TransformerBlock>> layers;
  RmsNorm norm;
  Linear output;

 private:
  Var run(const Tensor& ids, int64_t first_position, KvCache* cache);

  TransformerOptions options_;
  std::vector<TernaryLayer*> quantized_;
};

}  // namespace chimera
