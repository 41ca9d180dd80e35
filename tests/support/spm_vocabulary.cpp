#include "spm_vocabulary.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace chimera::test {

namespace {

const std::string kSpace = "\xe2\x96\x81";

size_t utf8_length(unsigned char lead) {
  return lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

}  // namespace

void add_token(SpmVocabulary& v, const std::string& text, float score, TokenType type) {
  v.tokens.push_back(text);
  v.scores.push_back(score);
  v.types.push_back(type);
}

SpmVocabulary spm_base_vocabulary() {
  SpmVocabulary v;
  add_token(v, "<unk>", 0, TokenType::unknown);
  add_token(v, "<s>", 0, TokenType::control);
  add_token(v, "</s>", 0, TokenType::control);
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    add_token(v, buf, 0, TokenType::byte);
  }
  return v;
}

SpmVocabulary learn_spm_vocabulary(const std::string& text, int merges,
                                   const std::vector<std::string>& user_defined) {
  SpmVocabulary v = spm_base_vocabulary();
  auto add = [&v](const std::string& t, float score, TokenType type) { add_token(v, t, score, type); };
  for (const std::string& t : user_defined) add(t, 0, TokenType::user_defined);

  // Words as lists of pieces, with their counts.
  std::map<std::vector<std::string>, int64_t> words;
  std::set<std::string> chars;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    std::vector<std::string> pieces;
    const std::string w = kSpace + word;
    for (size_t i = 0; i < w.size();) {
      const size_t n = std::min(utf8_length(static_cast<unsigned char>(w[i])), w.size() - i);
      pieces.push_back(w.substr(i, n));
      chars.insert(pieces.back());
      i += n;
    }
    ++words[pieces];
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t') flush();
    else word += c;
  }
  flush();
  for (const std::string& c : chars) add(c, -1e6f, TokenType::normal);

  for (int m = 0; m < merges; ++m) {
    std::map<std::pair<std::string, std::string>, int64_t> pairs;
    for (const auto& [pieces, count] : words)
      for (size_t i = 1; i < pieces.size(); ++i) pairs[{pieces[i - 1], pieces[i]}] += count;
    if (pairs.empty()) break;
    auto best = pairs.begin();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
      if (it->second > best->second) best = it;
    const auto [a, b] = best->first;
    if (std::find(v.tokens.begin(), v.tokens.end(), a + b) == v.tokens.end())
      add(a + b, static_cast<float>(-m), TokenType::normal);
    std::map<std::vector<std::string>, int64_t> next;
    for (const auto& [pieces, count] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < pieces.size(); ++i) {
        if (i + 1 < pieces.size() && pieces[i] == a && pieces[i + 1] == b) {
          out.push_back(a + b);
          ++i;
        } else {
          out.push_back(pieces[i]);
        }
      }
      next[out] += count;
    }
    words = std::move(next);
  }
  return v;
}

}  // namespace chimera::test
