// Tokenizers: our bytes, and SentencePiece vocabularies as llama.cpp encodes them (the exact
// ids are checked against llama.cpp itself in test_llama_cpp_agreement), read from and written
// to GGUF, and a model with such a vocabulary loaded, evaluated and generating.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "engine/ops/ops.h"
#include "harness/experiments/lm_inference.h"
#include "model/models/transformer_lm_gguf.h"
#include "model/tokenizers/tokenizer_gguf.h"
#include "spm_vocabulary.h"
#include "test_util.h"

namespace chimera {
namespace {

using Ids = std::vector<int64_t>;
const std::string kSpace = "\xe2\x96\x81";

// 0 <unk>, 1 <s>, 2 </s>, 3..258 the bytes, then pieces whose scores decide the merges.
SpmVocabulary hand_vocabulary() {
  SpmVocabulary v = test::spm_base_vocabulary();
  auto add = [&v](const std::string& t, float score, TokenType type) {
    test::add_token(v, t, score, type);
  };
  add(kSpace, -100, TokenType::normal);        // 259
  add("a", -100, TokenType::normal);           // 260
  add("b", -100, TokenType::normal);           // 261
  add("c", -100, TokenType::normal);           // 262
  add(kSpace + "a", -3, TokenType::normal);    // 263
  add("ab", -1, TokenType::normal);            // 264
  add(kSpace + "ab", -2, TokenType::normal);   // 265
  add("bc", -1, TokenType::normal);            // 266
  add("<sep>", 0, TokenType::user_defined);    // 267
  add("abc", -5, TokenType::normal);           // 268
  return v;
}

TEST(SpmTokenizer, MergesTheBestScoringPairFirstAndTheLeftmostOnTies) {
  const SpmTokenizer t(hand_vocabulary());
  // "▁abc": ab and bc tie at -1, ab is left of bc; then ▁ab (-2) beats abc (-5).
  EXPECT_EQ(t.encode("abc", false), (Ids{265, 262}));
  EXPECT_EQ(t.encode("bc a", false), (Ids{259, 266, 263}));
  EXPECT_EQ(t.encode("a  b", false), (Ids{263, 259, 259, 261}));
  EXPECT_EQ(t.encode("abc", true), (Ids{1, 265, 262}));
  EXPECT_EQ(t.encode("", true), (Ids{1}));
  EXPECT_TRUE(t.encode("", false).empty());
}

TEST(SpmTokenizer, BytesFallBackUserDefinedTokensAreCutOutControlTokensAreNot) {
  const SpmTokenizer t(hand_vocabulary());
  EXPECT_EQ(t.encode("\xc3\xa9", false), (Ids{259, 3 + 0xc3, 3 + 0xa9}));  // é: two bytes
  EXPECT_EQ(t.encode("a<sep>b", true), (Ids{1, 263, 267, 259, 261}));       // ▁ after <sep>
  EXPECT_EQ(t.encode("<s>", false), (Ids{259, 3 + '<', 3 + 's', 3 + '>'}));  // text, not BOS
  SpmVocabulary no_prefix = hand_vocabulary();
  no_prefix.add_space_prefix = false;
  no_prefix.add_bos = false;
  EXPECT_EQ(SpmTokenizer(no_prefix).encode("ab", true), (Ids{264}));
}

TEST(SpmTokenizer, PiecesGiveTheTextBack) {
  const SpmTokenizer t(hand_vocabulary());
  EXPECT_EQ(t.decode({1, 263, 267, 259, 261, 3 + 0xc3, 3 + 0xa9, 2, 0}), " a<sep> b\xc3\xa9");
  const std::string text = "ab c\xc3\xa9 a<sep>bc  \n";
  // A fragment after a user-defined token gets its leading space too, as in llama.cpp.
  EXPECT_EQ(t.decode(t.encode(text, true)), " ab c\xc3\xa9 a<sep> bc  \n");
  EXPECT_EQ(t.end_of_text(), 2);
  EXPECT_EQ(t.vocab_size(), 269);
  EXPECT_NE(test::error_of([&] { t.piece(269); }).find("outside the vocabulary of 269"),
            std::string::npos);
}

TEST(SpmTokenizer, LearnedVocabularyRoundTripsText) {
  const std::string text =
      "the cat sat on the mat and the dog sat on the log; then the cat and the dog ran";
  const SpmTokenizer t(test::learn_spm_vocabulary(text, 40));
  const Ids ids = t.encode(text, false);
  EXPECT_LT(ids.size(), text.size() / 2);  // merges made pieces longer than two bytes on average
  EXPECT_EQ(t.decode(ids), " " + text);
  EXPECT_EQ(t.decode(t.encode("zebra\tquiz\xe2\x82\xac", false)), " zebra\tquiz\xe2\x82\xac");
}

TEST(SpmTokenizer, BadVocabulariesAreClearErrors) {
  auto error_for = [](const std::function<void(SpmVocabulary&)>& change) {
    SpmVocabulary v = hand_vocabulary();
    change(v);
    return test::error_of([&] { SpmTokenizer t(v, "v.gguf"); });
  };
  EXPECT_NE(error_for([](SpmVocabulary& v) { v.scores.pop_back(); })
                .find("269 tokens but 268 scores and 269 token types"),
            std::string::npos);
  EXPECT_NE(error_for([](SpmVocabulary& v) { v.bos = 999; })
                .find("start-of-text token id 999 is outside"),
            std::string::npos);
  EXPECT_NE(error_for([](SpmVocabulary& v) { v.tokens[3] = "<0xZZ>"; }).find("not <0xXX>"),
            std::string::npos);
  EXPECT_NE(error_for([](SpmVocabulary& v) { v.types[5] = static_cast<TokenType>(9); })
                .find("token 5 has type 9"),
            std::string::npos);
  EXPECT_NE(error_for([](SpmVocabulary& v) { v = SpmVocabulary{}; }).find("no tokens"),
            std::string::npos);
  SpmVocabulary no_bytes = hand_vocabulary();
  for (int b = 0; b < 256; ++b) no_bytes.types[3 + b] = TokenType::unused, no_bytes.tokens[3 + b] = "u" + std::to_string(b);
  const std::string e = test::error_of([&] { SpmTokenizer(no_bytes).encode("\xc3\xa9", false); });
  EXPECT_NE(e.find("no token for the byte <0xC3>"), std::string::npos) << e;
}

TEST(ByteTokenizer, BytesAreTokens) {
  const ByteTokenizer t;
  EXPECT_EQ(t.encode("\xc3\xa9" "A", true), (Ids{195, 169, 65}));
  EXPECT_EQ(t.decode({255, 128, 10}), "\xff\x80\n");
  EXPECT_FALSE(t.end_of_text().has_value());
  EXPECT_NE(test::error_of([&] { t.piece(256); }).find("token 0 is 256"), std::string::npos);
}

GgufFile with_tokenizer(const Tokenizer& t) {
  GgufFile f;
  f.metadata.emplace_back("general.architecture", GgufValue::string("llama"));
  put_tokenizer(f, t);
  return parse_gguf(serialize_gguf(f), "t.gguf");
}

TEST(TokenizerGguf, VocabulariesRoundTripAndMissingKeysTakeLlamaCppsDefaults) {
  SpmVocabulary v = hand_vocabulary();
  v.bos = 2, v.eos = 1, v.unknown = -1, v.add_bos = false, v.add_space_prefix = false;
  const auto back = tokenizer_from_gguf(with_tokenizer(SpmTokenizer(v)), "t.gguf");
  ASSERT_EQ(back->name(), "spm");
  const SpmVocabulary& w = dynamic_cast<const SpmTokenizer&>(*back).vocabulary();
  EXPECT_EQ(w.tokens, v.tokens);
  EXPECT_EQ(w.scores, v.scores);
  EXPECT_EQ(w.types, v.types);
  EXPECT_EQ(w.bos, 2);
  EXPECT_EQ(w.eos, 1);
  EXPECT_EQ(w.unknown, 0);  // absent: llama.cpp's default
  EXPECT_FALSE(w.add_bos);
  EXPECT_FALSE(w.add_space_prefix);

  GgufFile bare = with_tokenizer(SpmTokenizer(hand_vocabulary()));
  std::erase_if(bare.metadata, [](const auto& kv) {
    return kv.first != "tokenizer.ggml.model" && kv.first != "tokenizer.ggml.tokens";
  });
  const auto d = tokenizer_from_gguf(bare, "bare.gguf");
  const SpmVocabulary& dv = dynamic_cast<const SpmTokenizer&>(*d).vocabulary();
  EXPECT_EQ(dv.bos, 1);
  EXPECT_EQ(dv.eos, 2);
  EXPECT_TRUE(dv.add_bos);
  EXPECT_TRUE(dv.add_space_prefix);
  EXPECT_EQ(dv.types[300 % dv.types.size()], TokenType::normal);
  EXPECT_EQ(dv.scores[5], 0.0f);

  EXPECT_EQ(tokenizer_from_gguf(with_tokenizer(ByteTokenizer()), "b.gguf")->name(), "bytes");
}

TEST(TokenizerGguf, EachWayTheEntriesCanBeWrongIsAClearError) {
  const GgufFile good = with_tokenizer(SpmTokenizer(hand_vocabulary()));
  auto error_for = [&](const std::string& key, const std::function<void(GgufValue&)>& change) {
    GgufFile f = good;
    bool found = false;
    for (auto& [k, v] : f.metadata)
      if (k == key) change(v), found = true;
    if (!found) {
      f.metadata.emplace_back(key, GgufValue{});
      change(f.metadata.back().second);
    }
    return test::error_of([&] { tokenizer_from_gguf(f, "bad.gguf"); });
  };
  auto expect = [](const std::string& e, const std::string& part) {
    EXPECT_NE(e.find(part), std::string::npos) << e;
    EXPECT_NE(e.find("bad.gguf"), std::string::npos) << e;
  };
  expect(error_for("tokenizer.ggml.model", [](GgufValue& v) { v = GgufValue::string("bert"); }),
         "tokenizer 'bert' with 269 tokens is not supported");
  expect(error_for("tokenizer.ggml.model", [](GgufValue& v) { v = GgufValue::u32(1); }),
         "no tokenizer");
  expect(error_for("tokenizer.ggml.tokens",
                   [](GgufValue& v) { v = GgufValue::array(GgufValueType::u32, {}); }),
         "not an array of strings");
  expect(error_for("tokenizer.ggml.tokens", [](GgufValue& v) { v.elements.clear(); }),
         "has 0 tokens");
  expect(error_for("tokenizer.ggml.scores", [](GgufValue& v) { v.elements.pop_back(); }),
         "has 268 entries for 269 tokens");
  expect(error_for("tokenizer.ggml.scores",
                   [](GgufValue& v) {
                     v = GgufValue::array(GgufValueType::i32, std::vector<GgufValue>(269, GgufValue::i32(0)));
                   }),
         "is not an array of f32");
  expect(error_for("tokenizer.ggml.token_type",
                   [](GgufValue& v) { v.elements[7] = GgufValue::i32(42); }),
         "token 7 has type 42");
  expect(error_for("tokenizer.ggml.bos_token_id", [](GgufValue& v) { v = GgufValue::string("1"); }),
         "is not an integer");
  expect(error_for("tokenizer.ggml.eos_token_id", [](GgufValue& v) { v = GgufValue::u32(4000); }),
         "end-of-text token id 4000 is outside");
  expect(error_for("tokenizer.ggml.unknown_token_id",
                   [](GgufValue& v) { v = GgufValue::u32(0xffffffffu); }),
         "outside any vocabulary");
  expect(error_for("tokenizer.ggml.add_bos_token", [](GgufValue& v) { v = GgufValue::u32(1); }),
         "is not a boolean");
  expect(error_for("tokenizer.ggml.tokens",
                   [](GgufValue& v) { v.elements[3] = GgufValue::string("<0x0>"); }),
         "token 3 is a byte token but reads '<0x0>'");
}

// A float model over a learned SentencePiece vocabulary, through GGUF and back.
struct SpmModel {
  SpmTokenizer tokenizer;
  std::unique_ptr<TransformerLM> model;
};

SpmModel spm_model(const std::string& text) {
  SpmModel m{SpmTokenizer(test::learn_spm_vocabulary(text, 60)), nullptr};
  TransformerOptions o;
  o.vocab_size = m.tokenizer.vocab_size();
  o.dim = 64, o.layers = 1, o.heads = 4, o.kv_heads = 2, o.ffn_dim = 128, o.context = 32;
  o.mode = ModelMode::fp32_baseline;
  Rng rng(3);
  m.model = std::make_unique<TransformerLM>(o, rng);
  m.model->eval();
  return m;
}

const char* kText = "one fish two fish red fish blue fish, this one has a little star";

TEST(TokenizerGguf, ModelWithASentencePieceVocabularyLoadsWithTheSameLogits) {
  SpmModel m = spm_model(kText);
  const GgufFile f = parse_gguf(
      serialize_gguf(transformer_lm_to_gguf(*m.model, GgmlType::f32, "spm", &m.tokenizer)),
      "spm.gguf");
  const auto back = transformer_lm_from_gguf(f, "spm.gguf");
  EXPECT_EQ(back->options().vocab_size, m.tokenizer.vocab_size());
  const Ids ids = m.tokenizer.encode("red fish, blue star", true);
  Tensor x({1, static_cast<int64_t>(ids.size())}, DType::i64);
  std::copy(ids.begin(), ids.end(), x.data<int64_t>());
  NoGradGuard no_grad;
  const Tensor a = m.model->forward(x).value(), b = back->forward(x).value();
  ASSERT_EQ(a.numel(), b.numel());
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.f32()[i], b.f32()[i]) << i;

  // Without an output matrix, the embedding is used (tied weights).
  GgufFile tied = f;
  std::erase_if(tied.tensors, [](const GgufTensor& t) { return t.name == "output.weight"; });
  const auto t = transformer_lm_from_gguf(tied, "tied.gguf");
  const Tensor& e = m.model->tok_embeddings.weight.value();
  const Tensor& w = t->output.weight.value();
  for (int64_t i = 0; i < e.numel(); ++i) ASSERT_EQ(w.f32()[i], e.f32()[i]) << i;

  const ByteTokenizer bytes;
  EXPECT_NE(test::error_of([&] { transformer_lm_to_gguf(*m.model, GgmlType::f32, "x", &bytes); })
                .find("the bytes tokenizer has 256 tokens, the model " +
                      std::to_string(m.tokenizer.vocab_size())),
            std::string::npos);
}

TEST(SpmGenerate, PromptsEncodeWithTheStartTokenAndGenerationStopsAtTheEndToken) {
  SpmModel m = spm_model(kText);
  // A zero final norm makes every logit 0: greedy decoding picks token 0 every time.
  m.model->norm.weight.value().fill(0.0f);
  GenerateArgs g;
  g.prompt = "red fish";
  g.temperature = 0;
  g.max_tokens = 5;
  const GenerateResult r = generate(*m.model, m.tokenizer, g);
  EXPECT_EQ(r.prompt_tokens, static_cast<int64_t>(m.tokenizer.encode("red fish", true).size()));
  EXPECT_EQ(m.tokenizer.encode("red fish", true)[0], 1);
  EXPECT_EQ(r.generated, 5);  // <unk>, five times: nothing in the text
  EXPECT_EQ(r.text, "");
  SpmVocabulary v = m.tokenizer.vocabulary();
  v.eos = 0;  // now the first token generated ends the text
  const GenerateResult stop = generate(*m.model, SpmTokenizer(v), g);
  EXPECT_EQ(stop.generated, 0);
  EXPECT_TRUE(stop.stopped_at_end_of_text);
  EXPECT_FALSE(r.stopped_at_end_of_text);
  const ByteTokenizer bytes;
  EXPECT_NE(test::error_of([&] { generate(*m.model, bytes, g); }).find("tokenizer has 256 tokens"),
            std::string::npos);
}

TEST(SpmEval, BitsPerByteCountTheBytesTheTargetsStandFor) {
  test::TempDir dir("chimera_spm_eval");
  std::string entries;
  for (int i = 0; i < 60; ++i) entries += std::string(kText) + " number " + std::to_string(i) + "\n%\n";
  test::write_bytes(dir.path / "fish", entries);
  SpmModel m = spm_model(kText);
  const Json r = eval_lm(*m.model, m.tokenizer, dir.path.string(), 2);
  const TextCorpus corpus = load_fortunes(dir.path.string());
  const Ids ids = m.tokenizer.encode(corpus.validation, false);
  // Two windows of 32 tokens: targets are ids 1..64.
  const std::string covered = m.tokenizer.decode(Ids(ids.begin() + 1, ids.begin() + 65));
  EXPECT_EQ(r["tokens"].get<int64_t>(), 64);
  EXPECT_NEAR(r["val_bits_per_byte"].get<double>(),
              r["val_loss"].get<double>() * 64 / std::log(2.0) / static_cast<double>(covered.size()),
              1e-9);
  EXPECT_LT(r["val_bits_per_byte"].get<double>(), r["val_loss"].get<double>() / std::log(2.0));
}

// The command line with a GGUF model of a SentencePiece vocabulary: generate encodes the
// prompt with the start token and prints the pieces, eval scores the text in its tokens.
TEST(SpmCli, GenerateAndEvalRunAGgufModelWithItsOwnVocabulary) {
  test::TempDir dir("chimera_spm_cli");
  std::string entries;
  for (int i = 0; i < 60; ++i) entries += std::string(kText) + " number " + std::to_string(i) + "\n%\n";
  test::write_bytes(dir.path / "corpus" / "fish", entries);
  SpmModel m = spm_model(kText);
  const std::string gguf = (dir.path / "spm.gguf").string();
  write_gguf(gguf, transformer_lm_to_gguf(*m.model, GgmlType::f32, "spm", &m.tokenizer));

  const test::CliResult gen = test::run_chimera("generate --model " + gguf +
                                                " --prompt 'red fish' --max-tokens 6 --temperature 0 --json");
  ASSERT_EQ(gen.code, 0) << gen.out;
  const Json g = Json::parse(gen.out.substr(gen.out.find('{')));
  EXPECT_EQ(g["prompt_tokens"].get<int64_t>(),
            static_cast<int64_t>(m.tokenizer.encode("red fish", true).size()));
  GenerateArgs a;
  a.prompt = "red fish", a.max_tokens = 6, a.temperature = 0;
  const GenerateResult want = generate(*m.model, m.tokenizer, a);
  EXPECT_EQ(g["generated"].get<int64_t>(), want.generated);
  // JSON holds Unicode: a lone byte token's invalid UTF-8 prints as U+FFFD, as documented.
  EXPECT_EQ(g["text"], Json::parse(Json(want.text).dump(-1, ' ', false,
                                                        Json::error_handler_t::replace)));

  const test::CliResult ev = test::run_chimera("eval --model " + gguf + " --corpus " +
                                               (dir.path / "corpus").string() +
                                               " --max-windows 2 --json");
  ASSERT_EQ(ev.code, 0) << ev.out;
  const Json e = Json::parse(ev.out.substr(ev.out.find('{')));
  const Json direct = eval_lm(*m.model, m.tokenizer, (dir.path / "corpus").string(), 2);
  EXPECT_EQ(e["tokens"], direct["tokens"]);
  EXPECT_EQ(e["val_loss"].get<double>(), direct["val_loss"].get<double>());
  EXPECT_EQ(e["val_bits_per_byte"].get<double>(), direct["val_bits_per_byte"].get<double>());
}

}  // namespace
}  // namespace chimera
