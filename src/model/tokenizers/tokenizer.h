// How text becomes a model's token ids and ids become text again.
//
// Two vocabularies: the 256 bytes our language models train on (ByteTokenizer), and the
// SentencePiece vocabularies of LLaMA-family GGUF files (SpmTokenizer, spm_tokenizer.h), so a
// ternary model a user already has runs on its own tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chimera {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::string name() const = 0;  // "bytes", "spm"
  virtual int64_t vocab_size() const = 0;
  // The ids of `text`, led by the start-of-text token when the vocabulary asks for one and
  // `add_bos` is set (a prompt, not a continuation).
  virtual std::vector<int64_t> encode(const std::string& text, bool add_bos) const = 0;
  // The bytes token `id` stands for in generated text ("" for control tokens). An id outside
  // the vocabulary is an error.
  virtual std::string piece(int64_t id) const = 0;
  // The token that ends a generation, if the vocabulary has one.
  virtual std::optional<int64_t> end_of_text() const = 0;

  std::string decode(const std::vector<int64_t>& ids) const;  // the pieces joined
};

inline constexpr int64_t kByteVocab = 256;

// Byte tokens as i64 ids (0..255) and back (an id outside 0..255 is an error).
std::vector<int64_t> byte_tokens(const std::string& text);
std::string bytes_of_tokens(const std::vector<int64_t>& ids);

// Token b is byte b; no start or end token (our models learn from the bytes alone).
class ByteTokenizer final : public Tokenizer {
 public:
  std::string name() const override { return "bytes"; }
  int64_t vocab_size() const override { return kByteVocab; }
  std::vector<int64_t> encode(const std::string& text, bool) const override {
    return byte_tokens(text);
  }
  std::string piece(int64_t id) const override { return bytes_of_tokens({id}); }
  std::optional<int64_t> end_of_text() const override { return std::nullopt; }
};

}  // namespace chimera
