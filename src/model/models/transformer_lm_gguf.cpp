#include "model/models/transformer_lm_gguf.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "engine/half.h"
#include "model/layers/init.h"
#include "model/tokenizers/tokenizer_gguf.h"

#include "model/quant/pack_tq1_0.h"
#include "model/quant/pack_tq2_0.h"

namespace chimera {

namespace {

GgufTensor f32_tensor(const std::string& name, const Tensor& t) {
  GgufTensor g;
  g.name = name;
  const Shape& s = t.shape();
  for (auto it = s.rbegin(); it != s.rend(); ++it) g.dims.push_back(static_cast<uint64_t>(*it));
  g.type = GgmlType::f32;
  g.data = std::string(static_cast<const char*>(t.raw()), t.nbytes());
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
  g.type = type;
  CHIMERA_CHECK(q.clip == 1.0f, "GGUF: '", name, "' uses ste_clip ", q.clip, " < 1; ",
                ggml_type_name(type), " holds weights of +-scale only");
  g.data = type == GgmlType::tq2_0 ? pack_tq2_0(q.codes.data<int8_t>(), rows, cols, q.gamma)
                                   : pack_tq1_0(q.codes.data<int8_t>(), rows, cols, q.gamma);
  return g;
}

}  // namespace

GgufFile transformer_lm_to_gguf(TransformerLM& model, GgmlType type, const std::string& name,
                                const Tokenizer* tokenizer) {
  const TransformerOptions& o = model.options();
  CHIMERA_CHECK(o.feed_forward == FeedForwardKind::swiglu,
                "GGUF: llama.cpp's llama architecture has a SwiGLU feed-forward; this model uses ",
                feed_forward_name(o.feed_forward));
  const ByteTokenizer bytes;
  const Tokenizer& vocabulary = tokenizer ? *tokenizer : bytes;
  CHIMERA_CHECK(o.vocab_size == vocabulary.vocab_size(), "GGUF: the ", vocabulary.name(),
                " tokenizer has ", vocabulary.vocab_size(), " tokens, the model ", o.vocab_size);
  CHIMERA_CHECK(type == GgmlType::f32 || type == GgmlType::tq2_0 || type == GgmlType::tq1_0,
                "GGUF: projections are written as F32, TQ2_0 or TQ1_0, not ",
                ggml_type_name(type));
  CHIMERA_CHECK(type == GgmlType::f32 || o.mode != ModelMode::fp32_baseline,
                "GGUF: a float (fp32_baseline) model has no ternary weights for ",
                ggml_type_name(type), "; export it as gguf-f32");
  if (type != GgmlType::f32)
    for (int64_t width : {o.dim, o.ffn_dim, o.heads * o.head_dim()})
      CHIMERA_CHECK(width % 256 == 0, "GGUF: ", ggml_type_name(type),
                    " needs every projection's input width to be a multiple of 256 (llama.cpp's "
                    "block); this model has dim ", o.dim, ", ffn_dim ", o.ffn_dim,
                    "; export it as gguf-f32 or train with such widths");
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
  put_tokenizer(f, vocabulary);

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

namespace chimera {

namespace {

const GgufTensor& need_tensor(const GgufFile& f, const std::string& name,
                              std::vector<uint64_t> dims, const std::string& source) {
  const GgufTensor* t = f.tensor(name);
  CHIMERA_CHECK(t != nullptr, "GGUF '", source, "': no tensor '", name, "'");
  CHIMERA_CHECK(t->dims == dims, "GGUF '", source, "': tensor '", name,
                "' has other dimensions than the metadata says");
  return *t;
}

// Float values of an F32 or F16 tensor.
void read_floats(const GgufTensor& t, Tensor& dst, const std::string& source) {
  CHIMERA_CHECK(t.type == GgmlType::f32 || t.type == GgmlType::f16, "GGUF '", source,
                "': tensor '", t.name, "' is ", ggml_type_name(t.type), ", expected F32 or F16");
  float* out = dst.f32();
  if (t.type == GgmlType::f32) {
    std::memcpy(out, t.data.data(), t.data.size());
    return;
  }
  for (int64_t i = 0; i < dst.numel(); ++i) {
    uint16_t h;
    std::memcpy(&h, t.data.data() + 2 * i, 2);
    out[i] = half_to_float(h);
  }
}

// A TQ2_0 / TQ1_0 projection decoded: codes [rows, cols] and one scale per block of 256.
struct TernaryBlocks {
  Tensor codes;
  std::vector<float> scales;
  // The scale of the blocks with a nonzero code (all-zero blocks may carry any), when they all
  // carry the same (`uniform`); empty for an all-zero tensor.
  std::optional<float> scale;
  bool uniform = true;
};

TernaryBlocks decode_ternary(const GgufTensor& t, const std::string& name,
                             const std::string& source) {
  CHIMERA_CHECK(t.dims.size() == 2 && t.dims[0] <= (uint64_t{1} << 24) &&
                    t.dims[1] <= (uint64_t{1} << 24),
                "GGUF '", source, "': tensor '", name, "' is not a plausible matrix");
  const auto rows = static_cast<int64_t>(t.dims[1]), cols = static_cast<int64_t>(t.dims[0]);
  TernaryBlocks d;
  d.codes = Tensor::empty({rows, cols}, DType::i8);  // every code is written below
  try {
    if (t.type == GgmlType::tq2_0)
      unpack_tq2_0(t.data, rows, cols, d.codes.data<int8_t>(), d.scales);
    else
      unpack_tq1_0(t.data, rows, cols, d.codes.data<int8_t>(), d.scales);
  } catch (const Error& e) {
    CHIMERA_FAIL("GGUF '", source, "': tensor '", name, "': ", e.what());
  }
  const int8_t* c = d.codes.data<int8_t>();
  for (size_t b = 0; b < d.scales.size(); ++b) {
    bool zero = true;
    for (int64_t i = 0; i < kTq2Block && zero; ++i) zero = c[b * kTq2Block + i] == 0;
    if (zero) continue;
    if (d.scale && *d.scale != d.scales[b]) d.uniform = false;
    d.scale = d.scales[b];
  }
  return d;
}

// The names of a block's seven projections.
std::vector<std::string> projection_names(int64_t block) {
  const std::string p = "blk." + std::to_string(block) + ".";
  return {p + "attn_q.weight",   p + "attn_k.weight",  p + "attn_v.weight",
          p + "attn_output.weight", p + "ffn_gate.weight", p + "ffn_up.weight",
          p + "ffn_down.weight"};
}

}  // namespace

std::unique_ptr<TransformerLM> transformer_lm_from_gguf(const GgufFile& f,
                                                        const std::string& source) {
  const GgufValue* arch = f.find("general.architecture");
  CHIMERA_CHECK(arch && arch->type == GgufValueType::string &&
                    std::get<std::string>(arch->scalar) == "llama",
                "GGUF '", source, "': the architecture is not 'llama'");
  const int64_t vocab = tokenizer_from_gguf(f, source)->vocab_size();
  TransformerOptions o;
  o.vocab_size = vocab;
  o.dim = static_cast<int64_t>(gguf_uint(f, "llama.embedding_length", source));
  o.layers = static_cast<int64_t>(gguf_uint(f, "llama.block_count", source));
  o.heads = static_cast<int64_t>(gguf_uint(f, "llama.attention.head_count", source));
  o.kv_heads = f.find("llama.attention.head_count_kv")
                   ? static_cast<int64_t>(gguf_uint(f, "llama.attention.head_count_kv", source))
                   : o.heads;
  o.ffn_dim = static_cast<int64_t>(gguf_uint(f, "llama.feed_forward_length", source));
  o.context = static_cast<int64_t>(gguf_uint(f, "llama.context_length", source));
  o.rope_theta = gguf_float(f, "llama.rope.freq_base", 10000.0);
  o.norm_eps = gguf_float(f, "llama.attention.layer_norm_rms_epsilon", 1e-5);
  o.feed_forward = FeedForwardKind::swiglu;
  o.layer.activation_scale = ActivationScale::token;
  CHIMERA_CHECK(o.dim > 0 && o.layers > 0 && o.layers <= 4096 && o.heads > 0 && o.dim <= 65536 &&
                    o.ffn_dim <= 262144 && o.context <= (int64_t{1} << 20),
                "GGUF '", source, "': implausible sizes in the metadata");
  if (const auto rope = gguf_uint_if_any(f, "llama.rope.dimension_count", source))
    CHIMERA_CHECK(*rope == static_cast<uint64_t>(o.dim / std::max<int64_t>(o.heads, 1)), "GGUF '",
                  source, "': rotary embedding over ", *rope, " of each head's ",
                  o.dim / std::max<int64_t>(o.heads, 1),
                  " dimensions; this build rotates whole heads");
  if (const auto v = gguf_uint_if_any(f, "llama.vocab_size", source))
    CHIMERA_CHECK(*v == static_cast<uint64_t>(vocab), "GGUF '", source, "': llama.vocab_size is ",
                  *v, " but the tokenizer has ", vocab, " tokens");
  const GgufTensor* q0 = f.tensor("blk.0.attn_q.weight");
  CHIMERA_CHECK(q0 != nullptr, "GGUF '", source, "': no tensor 'blk.0.attn_q.weight'");
  o.mode = q0->type == GgmlType::tq2_0 || q0->type == GgmlType::tq1_0 ? ModelMode::chimera
                                                                      : ModelMode::fp32_baseline;
  // Ternary projections run on the integer kernels with one scale per tensor (what BitNet
  // models and our export have). A file whose blocks carry different scales (llama-quantize
  // of a float model gives each block of 256 its own absmax) becomes a float model of the
  // dequantized weights, code x block scale: the file's exact values, at float speed. This
  // pass only decides which; each tensor is decoded again when its layer is filled, so that at
  // most one tensor's int8 codes (1 byte a weight) are held at a time, not the whole model's.
  std::set<std::string> ternary;
  if (o.mode == ModelMode::chimera) {
    CHIMERA_CHECK(o.layers <= 4096, "GGUF '", source, "': implausible block count");
    for (int64_t i = 0; i < o.layers; ++i)
      for (const std::string& name : projection_names(i)) {
        const GgufTensor* t = f.tensor(name);
        CHIMERA_CHECK(t != nullptr, "GGUF '", source, "': no tensor '", name, "'");
        CHIMERA_CHECK(t->type == GgmlType::tq2_0 || t->type == GgmlType::tq1_0, "GGUF '", source,
                      "': tensor '", name, "' is ", ggml_type_name(t->type),
                      "; a ternary model needs every projection in TQ2_0 or TQ1_0");
        if (!decode_ternary(*t, name, source).uniform) o.mode = ModelMode::fp32_baseline;
        ternary.insert(name);
      }
  }
  try {
    o.validate();
  } catch (const Error& e) {
    CHIMERA_FAIL("GGUF '", source, "': ", e.what());
  }
  // Built without drawing: every value the forward reads is replaced below, and the ternary
  // layers' float master weights, which it does not read, stay unwritten (lazy zeros).
  DeferredInit deferred;
  Rng rng(0);
  auto model = std::make_unique<TransformerLM>(o, rng);
  const auto D = static_cast<uint64_t>(o.dim), V = static_cast<uint64_t>(vocab);
  read_floats(need_tensor(f, "token_embd.weight", {D, V}, source),
              model->tok_embeddings.weight.value(), source);
  read_floats(need_tensor(f, "output_norm.weight", {D}, source), model->norm.weight.value(), source);
  // Without an output matrix the logits use the embedding's (tied weights, as llama.cpp does).
  read_floats(need_tensor(f, f.tensor("output.weight") ? "output.weight" : "token_embd.weight",
                          {D, V}, source),
              model->output.weight.value(), source);
  auto projection = [&](const std::string& name, LinearLayer& layer) {
    const Shape shape = layer.plain ? layer.plain->weight.shape() : layer.ternary->weight_master.shape();
    const GgufTensor& t = need_tensor(
        f, name, {static_cast<uint64_t>(shape[1]), static_cast<uint64_t>(shape[0])}, source);
    if (!ternary.count(name)) return read_floats(t, layer.plain->weight.value(), source);
    const TernaryBlocks d = decode_ternary(t, name, source);
    const int8_t* c = d.codes.data<int8_t>();
    if (layer.plain) {  // blocks with their own scales: the dequantized weights
      float* w = layer.plain->weight.value().f32();
      for (int64_t i = 0; i < d.codes.numel(); ++i)
        w[i] = d.scales[static_cast<size_t>(i / kTq2Block)] * static_cast<float>(c[i]);
      return;
    }
    QuantizedWeight q;
    q.codes = d.codes;
    q.gamma = d.scale.value_or(1.0f);
    q.alpha = 0;
    layer.ternary->set_fixed_weight(q);
  };
  for (int64_t i = 0; i < o.layers; ++i) {
    TransformerBlock& b = *model->layers[i];
    const std::string p = "blk." + std::to_string(i) + ".";
    read_floats(need_tensor(f, p + "attn_norm.weight", {D}, source),
                b.attention_norm.weight.value(), source);
    read_floats(need_tensor(f, p + "ffn_norm.weight", {D}, source), b.ffn_norm.weight.value(),
                source);
    const std::vector<std::string> names = projection_names(i);
    projection(names[0], b.attention.wq);
    projection(names[1], b.attention.wk);
    projection(names[2], b.attention.wv);
    projection(names[3], b.attention.wo);
    projection(names[4], b.feed_forward.w1);
    projection(names[5], *b.feed_forward.w3);
    projection(names[6], b.feed_forward.w2);
  }
  model->eval();
  return model;
}

}  // namespace chimera
