#include "model/models/transformer_lm_gguf.h"

#include <cstring>

#include "model/quant/pack_tq2_0.h"

namespace chimera {

std::string gpt2_byte_token(uint8_t b) {
  // Printable Latin-1 bytes stand for themselves; the others (controls, space, 127-160, 173)
  // are moved to code points 256 and up, in byte order.
  auto printable = [](int c) {
    return (c >= '!' && c <= '~') || (c >= 0xa1 && c <= 0xac) || (c >= 0xae && c <= 0xff);
  };
  int cp = b;
  if (!printable(b)) {
    int n = 0;
    for (int c = 0; c < b; ++c) n += !printable(c);
    cp = 256 + n;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

namespace {

GgufTensor f32_tensor(const std::string& name, const Tensor& t) {
  GgufTensor g;
  g.name = name;
  const Shape& s = t.shape();
  for (auto it = s.rbegin(); it != s.rend(); ++it) g.dims.push_back(static_cast<uint64_t>(*it));
  g.type = GgmlType::f32;
  g.data.assign(static_cast<const char*>(t.raw()), t.nbytes());
  return g;
}

GgufTensor projection(const std::string& name, LinearLayer& layer, GgmlType type) {
  if (layer.plain) return f32_tensor(name, layer.plain->weight.value());
  const QuantizedWeight q = layer.ternary->eval_weight();
  const int64_t rows = q.codes.size(0), cols = q.codes.size(1);
  if (type == GgmlType::f32) {
    Tensor w({rows, cols});
    for (int64_t i = 0; i < w.numel(); ++i)
      w.f32()[i] = q.gamma * (q.clip * static_cast<float>(q.codes.data<int8_t>()[i]));
    return f32_tensor(name, w);
  }
  GgufTensor g;
  g.name = name;
  g.dims = {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)};
  g.type = GgmlType::tq2_0;
  CHIMERA_CHECK(q.clip == 1.0f, "GGUF: '", name, "' uses ste_clip ", q.clip,
                " < 1; TQ2_0 holds weights of +-scale only");
  g.data = pack_tq2_0(q.codes.data<int8_t>(), rows, cols, q.gamma);
  return g;
}

}  // namespace

GgufFile transformer_lm_to_gguf(TransformerLM& model, GgmlType type, const std::string& name) {
  const TransformerOptions& o = model.options();
  CHIMERA_CHECK(o.feed_forward == FeedForwardKind::swiglu,
                "GGUF: llama.cpp's llama architecture has a SwiGLU feed-forward; this model uses ",
                feed_forward_name(o.feed_forward));
  CHIMERA_CHECK(o.vocab_size == 256, "GGUF: the byte tokenizer has 256 tokens, the model ",
                o.vocab_size);
  CHIMERA_CHECK(type == GgmlType::f32 || type == GgmlType::tq2_0,
                "GGUF: projections are written as F32 or TQ2_0, not ", ggml_type_name(type));
  CHIMERA_CHECK(type == GgmlType::f32 || o.mode != ModelMode::fp32_baseline,
                "GGUF: a float (fp32_baseline) model has no ternary weights for TQ2_0; export "
                "it as gguf-f32");
  if (type == GgmlType::tq2_0)
    for (int64_t width : {o.dim, o.ffn_dim, o.heads * o.head_dim()})
      CHIMERA_CHECK(width % 256 == 0, "GGUF: TQ2_0 needs every projection's input width to be "
                    "a multiple of 256 (llama.cpp's block); this model has dim ", o.dim,
                    ", ffn_dim ", o.ffn_dim, "; export it as gguf-f32 or train with such widths");
  GgufFile f;
  auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  f.metadata = {
      {"general.architecture", GgufValue::string("llama")},
      {"general.name", GgufValue::string(name)},
      {"general.quantization_version", GgufValue::u32(2)},
      {"general.alignment", GgufValue::u32(32)},
      {"llama.context_length", u32(o.context)},
      {"llama.embedding_length", u32(o.dim)},
      {"llama.block_count", u32(o.layers)},
      {"llama.feed_forward_length", u32(o.ffn_dim)},
      {"llama.rope.dimension_count", u32(o.head_dim())},
      {"llama.rope.freq_base", GgufValue::f32(static_cast<float>(o.rope_theta))},
      {"llama.attention.head_count", u32(o.heads)},
      {"llama.attention.head_count_kv", u32(o.kv_heads)},
      {"llama.attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(o.norm_eps))},
      {"llama.vocab_size", u32(o.vocab_size)},
  };
  std::vector<GgufValue> tokens, types;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(GgufValue::string(gpt2_byte_token(static_cast<uint8_t>(b))));
    types.push_back(GgufValue::i32(1));  // normal
  }
  f.metadata.emplace_back("tokenizer.ggml.model", GgufValue::string("gpt2"));
  f.metadata.emplace_back("tokenizer.ggml.pre", GgufValue::string("default"));
  f.metadata.emplace_back("tokenizer.ggml.tokens",
                          GgufValue::array(GgufValueType::string, std::move(tokens)));
  f.metadata.emplace_back("tokenizer.ggml.token_type",
                          GgufValue::array(GgufValueType::i32, std::move(types)));
  f.metadata.emplace_back("tokenizer.ggml.merges", GgufValue::array(GgufValueType::string, {}));
  f.metadata.emplace_back("tokenizer.ggml.bos_token_id", GgufValue::u32(0));
  f.metadata.emplace_back("tokenizer.ggml.eos_token_id", GgufValue::u32(0));
  f.metadata.emplace_back("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));

  f.tensors.push_back(f32_tensor("token_embd.weight", model.tok_embeddings.weight.value()));
  for (size_t i = 0; i < model.layers.size(); ++i) {
    TransformerBlock& b = *model.layers[i];
    const std::string p = "blk." + std::to_string(i) + ".";
    f.tensors.push_back(f32_tensor(p + "attn_norm.weight", b.attention_norm.weight.value()));
    f.tensors.push_back(projection(p + "attn_q.weight", b.attention.wq, type));
    f.tensors.push_back(projection(p + "attn_k.weight", b.attention.wk, type));
    f.tensors.push_back(projection(p + "attn_v.weight", b.attention.wv, type));
    f.tensors.push_back(projection(p + "attn_output.weight", b.attention.wo, type));
    f.tensors.push_back(f32_tensor(p + "ffn_norm.weight", b.ffn_norm.weight.value()));
    f.tensors.push_back(projection(p + "ffn_gate.weight", b.feed_forward.w1, type));
    f.tensors.push_back(projection(p + "ffn_up.weight", *b.feed_forward.w3, type));
    f.tensors.push_back(projection(p + "ffn_down.weight", b.feed_forward.w2, type));
  }
  f.tensors.push_back(f32_tensor("output_norm.weight", model.norm.weight.value()));
  f.tensors.push_back(f32_tensor("output.weight", model.output.weight.value()));
  return f;
}

}  // namespace chimera
