#include "model/tokenizers/tokenizer_gguf.h"

#include "engine/error.h"

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

constexpr size_t kMaxTokens = size_t{1} << 24;

// The array under `key` with one element per token, each of `element` type; null when absent.
const GgufValue* per_token_array(const GgufFile& f, const std::string& key, GgufValueType element,
                                 size_t tokens, const std::string& source) {
  const GgufValue* v = f.find(key);
  if (!v) return nullptr;
  CHIMERA_CHECK(v->type == GgufValueType::array && v->element_type == element, "GGUF '", source,
                "': metadata '", key, "' is not an array of ", gguf_value_type_name(element));
  CHIMERA_CHECK(v->elements.size() == tokens, "GGUF '", source, "': metadata '", key, "' has ",
                v->elements.size(), " entries for ", tokens, " tokens");
  return v;
}

int64_t token_id(const GgufFile& f, const std::string& key, int64_t fallback,
                 const std::string& source) {
  const std::optional<uint64_t> v = gguf_uint_if_any(f, key, source);
  if (!v) return fallback;
  CHIMERA_CHECK(*v < kMaxTokens, "GGUF '", source, "': metadata '", key, "' is ", *v,
                ", outside any vocabulary");
  return static_cast<int64_t>(*v);
}

bool is_our_byte_vocabulary(const std::vector<std::string>& tokens, const GgufFile& f) {
  if (tokens.size() != 256) return false;
  const GgufValue* merges = f.find("tokenizer.ggml.merges");
  if (merges && !merges->elements.empty()) return false;
  for (int b = 0; b < 256; ++b)
    if (tokens[static_cast<size_t>(b)] != gpt2_byte_token(static_cast<uint8_t>(b))) return false;
  return true;
}

}  // namespace

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const GgufFile& f, const std::string& source) {
  const GgufValue* model = f.find("tokenizer.ggml.model");
  CHIMERA_CHECK(model && model->type == GgufValueType::string, "GGUF '", source,
                "': no tokenizer (metadata 'tokenizer.ggml.model' is missing or not a string)");
  const std::string kind = std::get<std::string>(model->scalar);
  const GgufValue* list = f.find("tokenizer.ggml.tokens");
  CHIMERA_CHECK(list && list->type == GgufValueType::array &&
                    list->element_type == GgufValueType::string,
                "GGUF '", source, "': metadata 'tokenizer.ggml.tokens' is missing or not an array "
                "of strings");
  CHIMERA_CHECK(!list->elements.empty() && list->elements.size() <= kMaxTokens, "GGUF '", source,
                "': the vocabulary has ", list->elements.size(), " tokens (1 to ", kMaxTokens,
                " expected)");
  std::vector<std::string> tokens;
  tokens.reserve(list->elements.size());
  for (const GgufValue& t : list->elements) tokens.push_back(std::get<std::string>(t.scalar));

  if (kind == "gpt2" && is_our_byte_vocabulary(tokens, f)) return std::make_unique<ByteTokenizer>();
  CHIMERA_CHECK(kind == "llama", "GGUF '", source, "': tokenizer '", kind, "' with ",
                tokens.size(), " tokens is not supported; this build reads SentencePiece "
                "vocabularies (tokenizer 'llama') and the 256-byte vocabulary chimera writes");
  SpmVocabulary v;
  const size_t n = tokens.size();
  v.tokens = std::move(tokens);
  v.scores.assign(n, 0.0f);
  v.types.assign(n, TokenType::normal);
  if (const GgufValue* s = per_token_array(f, "tokenizer.ggml.scores", GgufValueType::f32, n, source))
    for (size_t i = 0; i < n; ++i) v.scores[i] = static_cast<float>(std::get<double>(s->elements[i].scalar));
  if (const GgufValue* t = per_token_array(f, "tokenizer.ggml.token_type", GgufValueType::i32, n, source))
    for (size_t i = 0; i < n; ++i)
      v.types[i] = static_cast<TokenType>(std::get<int64_t>(t->elements[i].scalar));
  v.bos = token_id(f, "tokenizer.ggml.bos_token_id", v.bos, source);
  v.eos = token_id(f, "tokenizer.ggml.eos_token_id", v.eos, source);
  v.unknown = token_id(f, "tokenizer.ggml.unknown_token_id", v.unknown, source);
  v.add_bos = gguf_bool(f, "tokenizer.ggml.add_bos_token", v.add_bos, source);
  v.add_space_prefix = gguf_bool(f, "tokenizer.ggml.add_space_prefix", v.add_space_prefix, source);
  return std::make_unique<SpmTokenizer>(std::move(v), "GGUF '" + source + "'");
}

void put_tokenizer(GgufFile& f, const Tokenizer& tokenizer) {
  std::vector<GgufValue> tokens, types, scores;
  auto put = [&f](const char* key, GgufValue v) { f.metadata.emplace_back(key, std::move(v)); };
  if (const auto* spm = dynamic_cast<const SpmTokenizer*>(&tokenizer)) {
    const SpmVocabulary& v = spm->vocabulary();
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      tokens.push_back(GgufValue::string(v.tokens[i]));
      scores.push_back(GgufValue::f32(v.scores[i]));
      types.push_back(GgufValue::i32(static_cast<int32_t>(v.types[i])));
    }
    put("tokenizer.ggml.model", GgufValue::string("llama"));
    put("tokenizer.ggml.tokens", GgufValue::array(GgufValueType::string, std::move(tokens)));
    put("tokenizer.ggml.scores", GgufValue::array(GgufValueType::f32, std::move(scores)));
    put("tokenizer.ggml.token_type", GgufValue::array(GgufValueType::i32, std::move(types)));
    for (const auto& [key, id] : {std::pair<const char*, int64_t>{"tokenizer.ggml.bos_token_id", v.bos},
                                  {"tokenizer.ggml.eos_token_id", v.eos},
                                  {"tokenizer.ggml.unknown_token_id", v.unknown}})
      if (id >= 0) put(key, GgufValue::u32(static_cast<uint32_t>(id)));
    put("tokenizer.ggml.add_bos_token", GgufValue::boolean(v.add_bos));
    put("tokenizer.ggml.add_space_prefix", GgufValue::boolean(v.add_space_prefix));
    return;
  }
  CHIMERA_CHECK(dynamic_cast<const ByteTokenizer*>(&tokenizer) != nullptr,
                "GGUF: no way to write the '", tokenizer.name(), "' tokenizer");
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(GgufValue::string(gpt2_byte_token(static_cast<uint8_t>(b))));
    types.push_back(GgufValue::i32(static_cast<int32_t>(TokenType::normal)));
  }
  put("tokenizer.ggml.model", GgufValue::string("gpt2"));
  put("tokenizer.ggml.pre", GgufValue::string("default"));
  put("tokenizer.ggml.tokens", GgufValue::array(GgufValueType::string, std::move(tokens)));
  put("tokenizer.ggml.token_type", GgufValue::array(GgufValueType::i32, std::move(types)));
  put("tokenizer.ggml.merges", GgufValue::array(GgufValueType::string, {}));
  put("tokenizer.ggml.bos_token_id", GgufValue::u32(0));
  put("tokenizer.ggml.eos_token_id", GgufValue::u32(0));
  put("tokenizer.ggml.add_bos_token", GgufValue::boolean(false));
}

}  // namespace chimera
