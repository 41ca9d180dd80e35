// SentencePiece vocabularies as llama.cpp runs them (GGUF `tokenizer.ggml.model = "llama"`):
// the tokenizer of LLaMA-family models and of most ternary models published for llama.cpp.
//
// Encoding, llama.cpp's "SPM" algorithm, so that a GGUF model sees here the ids it sees there:
//  1. User-defined tokens found in the text are cut out first, longest token first, leftmost
//     occurrence first; they stand for themselves. (Control tokens such as "<s>" are never
//     read from text: a prompt cannot inject them.)
//  2. Each remaining fragment gets a leading space when the vocabulary asks for one
//     (add_space_prefix) and it starts the text or follows a user-defined token; every space
//     becomes U+2581 ("▁").
//  3. The fragment is split into UTF-8 characters; repeatedly the adjacent pair whose joined
//     text is a token with the highest score is merged (ties: the leftmost pair), until no pair
//     joins into a token.
//  4. A piece left that is not a token is taken apart along the merges that built it; a single
//     character that is not a token becomes its bytes' <0xXX> tokens (byte fallback).
// The start-of-text token leads a prompt when the vocabulary adds one (add_bos).
#pragma once

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/tokenizers/tokenizer.h"

namespace chimera {

// GGUF's token types (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6
};

struct SpmVocabulary {
  std::vector<std::string> tokens;
  std::vector<float> scores;       // merge priority: higher merges first
  std::vector<TokenType> types;
  int64_t bos = 1, eos = 2, unknown = 0;  // -1: none
  bool add_bos = true, add_space_prefix = true;

  // Errors name `source`: no tokens, scores or types not one per token, a special id outside
  // the vocabulary, a byte token not spelled <0xXX>.
  void validate(const std::string& source) const;
};

class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(SpmVocabulary vocabulary, const std::string& source = "vocabulary");

  std::string name() const override { return "spm"; }
  int64_t vocab_size() const override { return static_cast<int64_t>(v_.tokens.size()); }
  std::vector<int64_t> encode(const std::string& text, bool add_bos) const override;
  std::string piece(int64_t id) const override;
  std::optional<int64_t> end_of_text() const override;
  const SpmVocabulary& vocabulary() const { return v_; }

 private:
  int64_t find(const std::string& text) const;  // -1: not a token
  void encode_fragment(const std::string& text, std::vector<int64_t>& out) const;

  SpmVocabulary v_;
  std::unordered_map<std::string, int64_t> ids_;  // a text listed twice: its last id
  std::array<int64_t, 256> byte_ids_{};           // -1: no token for that byte
  std::vector<int64_t> user_defined_;             // longest text first
};

}  // namespace chimera
