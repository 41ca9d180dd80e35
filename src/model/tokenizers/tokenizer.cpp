#include "model/tokenizers/tokenizer.h"

#include "engine/error.h"

namespace chimera {

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (int64_t id : ids) text += piece(id);
  return text;
}

std::vector<int64_t> byte_tokens(const std::string& text) {
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
  return ids;
}

std::string bytes_of_tokens(const std::vector<int64_t>& ids) {
  std::string text(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    CHIMERA_CHECK(ids[i] >= 0 && ids[i] < kByteVocab, "token ", i, " is ", ids[i],
                  ", not a byte id (0..", kByteVocab - 1, ")");
    text[i] = static_cast<char>(static_cast<unsigned char>(ids[i]));
  }
  return text;
}

}  // namespace chimera
