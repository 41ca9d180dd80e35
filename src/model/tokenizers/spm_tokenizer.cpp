#include "model/tokenizers/spm_tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <queue>

#include "engine/error.h"

namespace chimera {

namespace {

const std::string kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

std::string byte_token_text(int b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", b);
  return buf;
}

bool is_byte_token_text(const std::string& t) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// The length of the UTF-8 sequence a lead byte starts (1 for a stray continuation byte).
size_t utf8_length(char lead) {
  const auto high = static_cast<unsigned char>(lead) >> 4;
  return high < 12 ? 1 : high < 14 ? 2 : high == 14 ? 3 : 4;
}

// One fragment's merging (step 3 and 4 of the header). Symbols are spans of the text in a
// doubly linked list; a merge grows the left span over the right one.
class SpmMerge {
 public:
  SpmMerge(const std::string& text, const SpmVocabulary& v,
           const std::unordered_map<std::string, int64_t>& ids,
           const std::array<int64_t, 256>& byte_ids)
      : text_(text), v_(v), ids_(ids), byte_ids_(byte_ids) {
    for (size_t at = 0; at < text.size();) {
      const size_t n = std::min(utf8_length(text[at]), text.size() - at);
      const int index = static_cast<int>(symbols_.size());
      symbols_.push_back({at, n, index - 1, at + n == text.size() ? -1 : index + 1});
      at += n;
    }
  }

  void run(std::vector<int64_t>& out) {
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) add_pair(i - 1, i);
    while (!queue_.empty()) {
      const Pair p = queue_.top();
      queue_.pop();
      Symbol& l = symbols_[p.left];
      Symbol& r = symbols_[p.right];
      if (l.n == 0 || r.n == 0 || l.n + r.n != p.size) continue;  // stale: a side merged since
      l.n += r.n;
      r.n = 0;
      l.next = r.next;
      if (r.next >= 0) symbols_[r.next].prev = p.left;
      add_pair(l.prev, p.left);
      add_pair(p.left, l.next);
    }
    if (symbols_.empty()) return;
    for (int i = 0; i != -1; i = symbols_[i].next) split(symbols_[i], out);
  }

 private:
  struct Symbol {
    size_t at, n;
    int prev, next;
  };
  struct Pair {
    int left, right;
    float score;
    size_t size;
  };
  struct Lower {  // the queue's top: highest score, then the leftmost pair
    bool operator()(const Pair& a, const Pair& b) const {
      return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
  };

  std::string span(const Symbol& s, size_t n) const { return text_.substr(s.at, n); }

  void add_pair(int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string joined = span(symbols_[left], symbols_[left].n + symbols_[right].n);
    const int64_t id = find(joined);
    if (id < 0) return;
    queue_.push({left, right, v_.scores[static_cast<size_t>(id)], joined.size()});
    built_from_[joined] = {left, right};
  }

  int64_t find(const std::string& t) const {
    const auto it = ids_.find(t);
    return it == ids_.end() ? -1 : it->second;
  }

  void split(const Symbol& s, std::vector<int64_t>& out) {
    const std::string t = span(s, s.n);
    if (const int64_t id = find(t); id >= 0) {
      out.push_back(id);
      return;
    }
    const auto it = built_from_.find(t);
    if (it == built_from_.end()) {
      for (char c : t) {  // byte fallback
        const auto b = static_cast<unsigned char>(c);
        CHIMERA_CHECK(byte_ids_[b] >= 0, "the vocabulary has no token for the byte ",
                      byte_token_text(b), " (no byte fallback), so this text cannot be encoded");
        out.push_back(byte_ids_[b]);
      }
      return;
    }
    split(symbols_[it->second.first], out);
    split(symbols_[it->second.second], out);
  }

  const std::string& text_;
  const SpmVocabulary& v_;
  const std::unordered_map<std::string, int64_t>& ids_;
  const std::array<int64_t, 256>& byte_ids_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Pair, std::vector<Pair>, Lower> queue_;
  std::map<std::string, std::pair<int, int>> built_from_;
};

}  // namespace

void SpmVocabulary::validate(const std::string& source) const {
  const auto n = static_cast<int64_t>(tokens.size());
  CHIMERA_CHECK(n > 0, source, ": the vocabulary has no tokens");
  CHIMERA_CHECK(scores.size() == tokens.size() && types.size() == tokens.size(), source,
                ": ", tokens.size(), " tokens but ", scores.size(), " scores and ", types.size(),
                " token types; each token needs one of each");
  for (const auto& [what, id] : {std::pair<const char*, int64_t>{"start-of-text", bos},
                                 {"end-of-text", eos}, {"unknown", unknown}})
    CHIMERA_CHECK(id >= -1 && id < n, source, ": the ", what, " token id ", id,
                  " is outside the vocabulary of ", n, " tokens");
  CHIMERA_CHECK(!add_bos || bos >= 0, source,
                ": the vocabulary adds a start-of-text token but names none");
  for (int64_t i = 0; i < n; ++i) {
    const auto t = static_cast<int32_t>(types[static_cast<size_t>(i)]);
    CHIMERA_CHECK(t >= 0 && t <= 6, source, ": token ", i, " has type ", t,
                  "; GGUF token types are 0..6");
    CHIMERA_CHECK(types[static_cast<size_t>(i)] != TokenType::byte ||
                      is_byte_token_text(tokens[static_cast<size_t>(i)]),
                  source, ": token ", i, " is a byte token but reads '",
                  tokens[static_cast<size_t>(i)], "', not <0xXX>");
  }
}

SpmTokenizer::SpmTokenizer(SpmVocabulary vocabulary, const std::string& source)
    : v_(std::move(vocabulary)) {
  v_.validate(source);
  for (size_t i = 0; i < v_.tokens.size(); ++i) ids_[v_.tokens[i]] = static_cast<int64_t>(i);
  for (int b = 0; b < 256; ++b) {
    int64_t id = find(byte_token_text(b));
    if (id < 0) id = find(std::string(1, static_cast<char>(b)));
    byte_ids_[static_cast<size_t>(b)] = id;
  }
  for (size_t i = 0; i < v_.tokens.size(); ++i)
    if (v_.types[i] == TokenType::user_defined && !v_.tokens[i].empty())
      user_defined_.push_back(static_cast<int64_t>(i));
  std::stable_sort(user_defined_.begin(), user_defined_.end(), [&](int64_t a, int64_t b) {
    return v_.tokens[static_cast<size_t>(a)].size() > v_.tokens[static_cast<size_t>(b)].size();
  });
}

int64_t SpmTokenizer::find(const std::string& text) const {
  const auto it = ids_.find(text);
  return it == ids_.end() ? -1 : it->second;
}

void SpmTokenizer::encode_fragment(const std::string& text, std::vector<int64_t>& out) const {
  SpmMerge(text, v_, ids_, byte_ids_).run(out);
}

std::vector<int64_t> SpmTokenizer::encode(const std::string& text, bool add_bos) const {
  // Step 1: fragments of raw text (id -1) and user-defined tokens.
  struct Fragment {
    int64_t id;
    std::string text;
  };
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({-1, text});
  for (int64_t id : user_defined_) {
    const std::string& t = v_.tokens[static_cast<size_t>(id)];
    std::vector<Fragment> next;
    for (Fragment& f : fragments) {
      if (f.id >= 0) {
        next.push_back(std::move(f));
        continue;
      }
      size_t from = 0;
      for (size_t at; (at = f.text.find(t, from)) != std::string::npos; from = at + t.size()) {
        if (at > from) next.push_back({-1, f.text.substr(from, at - from)});
        next.push_back({id, t});
      }
      if (from < f.text.size()) next.push_back({-1, f.text.substr(from)});
    }
    fragments = std::move(next);
  }
  std::vector<int64_t> out;
  if (add_bos && v_.add_bos) out.push_back(v_.bos);
  bool after_token = true;  // the text's start counts as following a token
  for (const Fragment& f : fragments) {
    if (f.id >= 0) {
      out.push_back(f.id);
      after_token = true;
      continue;
    }
    std::string escaped;
    const std::string raw = (v_.add_space_prefix && after_token ? " " : "") + f.text;
    for (char c : raw) escaped += c == ' ' ? kSpace : std::string(1, c);
    encode_fragment(escaped, out);
    after_token = false;
  }
  return out;
}

std::string SpmTokenizer::piece(int64_t id) const {
  CHIMERA_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " is outside the vocabulary of ",
                vocab_size(), " tokens");
  const std::string& t = v_.tokens[static_cast<size_t>(id)];
  switch (v_.types[static_cast<size_t>(id)]) {
    case TokenType::user_defined:
      return t;
    case TokenType::byte:
      return std::string(1, static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
    case TokenType::normal: {
      std::string s;
      for (size_t i = 0; i < t.size();) {
        if (t.compare(i, kSpace.size(), kSpace) == 0) {
          s += ' ';
          i += kSpace.size();
        } else {
          s += t[i++];
        }
      }
      return s;
    }
    default:  // control, unknown, unused: nothing in the text, as llama.cpp prints them
      return "";
  }
}

std::optional<int64_t> SpmTokenizer::end_of_text() const {
  return v_.eos >= 0 ? std::optional<int64_t>(v_.eos) : std::nullopt;
}

}  // namespace chimera
