#include "model/models/transformer_lm.h"

#include <algorithm>
#include <memory>

#include "engine/ops/ops.h"
#include "model/layers/shared_input.h"

namespace chimera {

FeedForwardKind parse_feed_forward(const std::string& s) {
  if (s == "swiglu") return FeedForwardKind::swiglu;
  if (s == "relu2") return FeedForwardKind::relu2;
  CHIMERA_FAIL("feed_forward must be 'swiglu' or 'relu2', got '", s, "'");
}

const char* feed_forward_name(FeedForwardKind f) {
  return f == FeedForwardKind::swiglu ? "swiglu" : "relu2";
}

void TransformerOptions::validate() const {
  CHIMERA_CHECK(vocab_size > 0, "vocab_size must be positive, got ", vocab_size);
  CHIMERA_CHECK(dim > 0, "dim must be positive, got ", dim);
  CHIMERA_CHECK(layers > 0, "layers must be positive, got ", layers);
  CHIMERA_CHECK(heads > 0 && dim % heads == 0, "heads (", heads, ") must divide dim (", dim, ")");
  CHIMERA_CHECK(head_dim() % 2 == 0, "dim / heads (", head_dim(),
                ") must be even: rotary positions turn pairs of features");
  CHIMERA_CHECK(kv_heads > 0 && heads % kv_heads == 0, "kv_heads (", kv_heads,
                ") must divide heads (", heads, ")");
  CHIMERA_CHECK(ffn_dim > 0, "ffn_dim must be positive, got ", ffn_dim);
  CHIMERA_CHECK(context > 0, "context must be positive, got ", context);
  CHIMERA_CHECK(rope_theta > 0, "rope_theta must be positive, got ", rope_theta);
  CHIMERA_CHECK(norm_eps > 0, "norm_eps must be positive, got ", norm_eps);
  layer.validate();
}

nlohmann::json transformer_options_json(const TransformerOptions& o) {
  return {{"mode", model_mode_name(o.mode)},
          {"vocab_size", o.vocab_size},
          {"dim", o.dim},
          {"layers", o.layers},
          {"heads", o.heads},
          {"kv_heads", o.kv_heads},
          {"ffn_dim", o.ffn_dim},
          {"context", o.context},
          {"feed_forward", feed_forward_name(o.feed_forward)},
          {"rope_theta", o.rope_theta},
          {"norm_eps", o.norm_eps},
          {"activation_scale", activation_scale_name(o.layer.activation_scale)},
          {"eps_beta", o.layer.eps_beta}};
}

TransformerOptions transformer_options_from_json(const nlohmann::json& j,
                                                const std::string& source) {
  try {
    TransformerOptions o;
    o.mode = parse_model_mode(j.at("mode").get<std::string>());
    o.vocab_size = j.at("vocab_size").get<int64_t>();
    o.dim = j.at("dim").get<int64_t>();
    o.layers = j.at("layers").get<int64_t>();
    o.heads = j.at("heads").get<int64_t>();
    o.kv_heads = j.at("kv_heads").get<int64_t>();
    o.ffn_dim = j.at("ffn_dim").get<int64_t>();
    o.context = j.at("context").get<int64_t>();
    o.feed_forward = parse_feed_forward(j.at("feed_forward").get<std::string>());
    o.rope_theta = j.at("rope_theta").get<double>();
    o.norm_eps = j.at("norm_eps").get<double>();
    o.layer.activation_scale = parse_activation_scale(j.at("activation_scale").get<std::string>());
    o.layer.eps_beta = j.value("eps_beta", o.layer.eps_beta);
    o.validate();
    return o;
  } catch (const nlohmann::json::exception& e) {
    CHIMERA_FAIL(source, ": the transformer settings are incomplete or mistyped: ", e.what());
  } catch (const Error& e) {
    CHIMERA_FAIL(source, ": ", e.what());
  }
}

namespace {

LinearLayer make_projection(int64_t in, int64_t out, const TransformerOptions& o, Rng& rng) {
  LinearLayer layer;
  if (o.mode == ModelMode::fp32_baseline) {
    layer.plain = std::make_unique<Linear>(in, out, false, rng);
  } else {
    BitLayerOptions l = o.layer;
    l.quant_mode =
        o.mode == ModelMode::strict_bitnet ? QuantMode::strict_bitnet : QuantMode::chimera;
    layer.ternary = std::make_unique<BitLinear>(in, out, false, l, rng);
  }
  return layer;
}

const TransformerOptions& validated(const TransformerOptions& o) {
  o.validate();
  return o;
}

std::vector<std::unique_ptr<TransformerBlock>> make_blocks(const TransformerOptions& o, Rng& rng) {
  std::vector<std::unique_ptr<TransformerBlock>> blocks;
  for (int64_t i = 0; i < o.layers; ++i) blocks.push_back(std::make_unique<TransformerBlock>(o, rng));
  return blocks;
}

// [B, T, D] <-> rows [B * T, D] for the projections.
Var rows_of(const Var& x) { return reshape(x, {x.shape()[0] * x.shape()[1], x.shape()[2]}); }

}  // namespace

Attention::Attention(const TransformerOptions& o, Rng& rng)
    : wq(make_projection(o.dim, o.heads * o.head_dim(), o, rng)),
      wk(make_projection(o.dim, o.kv_heads * o.head_dim(), o, rng)),
      wv(make_projection(o.dim, o.kv_heads * o.head_dim(), o, rng)),
      wo(make_projection(o.heads * o.head_dim(), o.dim, o, rng)),
      heads_(o.heads),
      kv_heads_(o.kv_heads),
      head_dim_(o.head_dim()),
      context_(o.context),
      rope_theta_(o.rope_theta) {}

void Attention::visit_children(const ChildFn& on_child) {
  on_child("wq", wq.module());
  on_child("wk", wk.module());
  on_child("wv", wv.module());
  on_child("wo", wo.module());
}

// Rows [0, len) of a cache buffer as a [1, len, kv_heads, head_dim] tensor sharing its memory.
static Tensor cached_rows(const Tensor& buffer, int64_t len, int64_t kv_heads, int64_t head_dim) {
  return Tensor::from_external(const_cast<void*>(buffer.raw()), {1, len, kv_heads, head_dim},
                               DType::f32, std::make_shared<Tensor>(buffer));
}

Var Attention::forward(const Var& x, int64_t first_position, Tensor* cache_k, Tensor* cache_v) {
  const int64_t B = x.shape()[0], T = x.shape()[1], D = x.shape()[2];
  const std::vector<Var> qkv = linear_shared_input({&wq, &wk, &wv}, rows_of(x));
  const Var q = rotary(reshape(qkv[0], {B, T, heads_, head_dim_}), first_position, rope_theta_);
  Var k = rotary(reshape(qkv[1], {B, T, kv_heads_, head_dim_}), first_position, rope_theta_);
  Var v = reshape(qkv[2], {B, T, kv_heads_, head_dim_});
  if (cache_k) {
    CHIMERA_CHECK(B == 1, "a key/value cache holds one sequence, got a batch of ", B);
    const int64_t width = kv_heads_ * head_dim_, len = first_position + T;
    CHIMERA_CHECK(len <= context_, "the key/value cache holds ", context_, " positions, not ", len);
    for (Tensor* buffer : {cache_k, cache_v})
      if (!buffer->defined()) *buffer = Tensor::empty({context_, width});
    std::copy(k.value().f32(), k.value().f32() + T * width, cache_k->f32() + first_position * width);
    std::copy(v.value().f32(), v.value().f32() + T * width, cache_v->f32() + first_position * width);
    k = Var(cached_rows(*cache_k, len, kv_heads_, head_dim_));
    v = Var(cached_rows(*cache_v, len, kv_heads_, head_dim_));
  }
  const Var o = causal_attention(q, k, v);
  return reshape(wo.forward(reshape(o, {B * T, heads_ * head_dim_})), {B, T, D});
}

FeedForward::FeedForward(const TransformerOptions& o, Rng& rng)
    : w1(make_projection(o.dim, o.ffn_dim, o, rng)), w2(make_projection(o.ffn_dim, o.dim, o, rng)) {
  if (o.feed_forward == FeedForwardKind::swiglu) w3 = make_projection(o.dim, o.ffn_dim, o, rng);
}

void FeedForward::visit_children(const ChildFn& on_child) {
  on_child("w1", w1.module());
  on_child("w2", w2.module());
  if (w3) on_child("w3", w3->module());
}

Var FeedForward::forward(const Var& x) {
  Var hidden;
  if (w3) {
    const std::vector<Var> gate_up = linear_shared_input({&w1, &*w3}, x);
    hidden = swiglu(gate_up[0], gate_up[1]);
  } else {
    hidden = relu_squared(w1.forward(x));
  }
  return w2.forward(hidden);
}

TransformerBlock::TransformerBlock(const TransformerOptions& o, Rng& rng)
    : attention_norm(o.dim, o.norm_eps),
      attention(o, rng),
      ffn_norm(o.dim, o.norm_eps),
      feed_forward(o, rng) {}

void TransformerBlock::visit_children(const ChildFn& on_child) {
  on_child("attention_norm", attention_norm);
  on_child("attention", attention);
  on_child("ffn_norm", ffn_norm);
  on_child("feed_forward", feed_forward);
}

Var TransformerBlock::forward(const Var& x, int64_t first_position, Tensor* cache_k,
                              Tensor* cache_v) {
  const Var h = add(x, attention.forward(attention_norm.forward(x), first_position, cache_k,
                                         cache_v));
  return add(h, reshape(feed_forward.forward(rows_of(ffn_norm.forward(h))), h.shape()));
}

TransformerLM::TransformerLM(const TransformerOptions& options, Rng& rng)
    : tok_embeddings(validated(options).vocab_size, options.dim, rng),
      layers(make_blocks(options, rng)),
      norm(options.dim, options.norm_eps),
      output(options.dim, options.vocab_size, false, rng),
      options_(options) {
  for (auto& block : layers) {
    std::vector<LinearLayer*> projections{&block->attention.wq, &block->attention.wk,
                                          &block->attention.wv, &block->attention.wo,
                                          &block->feed_forward.w1, &block->feed_forward.w2};
    if (block->feed_forward.w3) projections.push_back(&*block->feed_forward.w3);
    for (LinearLayer* p : projections)
      if (p->ternary) quantized_.push_back(p->ternary.get());
  }
}

void TransformerLM::visit_children(const ChildFn& on_child) {
  on_child("tok_embeddings", tok_embeddings);
  for (size_t i = 0; i < layers.size(); ++i) on_child("layers." + std::to_string(i), *layers[i]);
  on_child("norm", norm);
  on_child("output", output);
}

Var TransformerLM::run(const Tensor& ids, int64_t first_position, KvCache* cache) {
  CHIMERA_CHECK(ids.defined() && ids.dtype() == DType::i64 && ids.dim() == 2 && ids.numel() > 0,
                "TransformerLM: expected token ids i64 [batch, tokens], got ",
                ids.defined() ? shape_str(ids.shape()) : "none");
  const int64_t B = ids.shape()[0], T = ids.shape()[1];
  CHIMERA_CHECK(first_position + T <= options_.context, "TransformerLM: ", first_position + T,
                " positions do not fit the context of ", options_.context, " tokens");
  Var x = tok_embeddings.forward(ids);
  for (size_t i = 0; i < layers.size(); ++i)
    x = layers[i]->forward(x, first_position, cache ? &cache->k[i] : nullptr,
                           cache ? &cache->v[i] : nullptr);
  return output.forward(reshape(norm.forward(x), {B * T, options_.dim}));
}

Var TransformerLM::forward(const Tensor& ids) { return run(ids, 0, nullptr); }

Var TransformerLM::forward_cached(const Tensor& ids, KvCache& cache) {
  CHIMERA_CHECK(static_cast<int64_t>(cache.k.size()) == options_.layers,
                "the key/value cache was made for another model");
  const Var logits = run(ids, cache.length, &cache);
  cache.length += ids.shape()[1];
  return logits;
}

KvCache TransformerLM::new_cache() const {
  KvCache c;
  c.k.resize(static_cast<size_t>(options_.layers));
  c.v.resize(static_cast<size_t>(options_.layers));
  return c;
}

void TransformerLM::set_alpha_override(std::optional<double> alpha) {
  set_layers_alpha_override(quantized_, alpha);
}

void TransformerLM::set_alpha_target(double alpha) { set_layers_alpha_target(quantized_, alpha); }

}  // namespace chimera
