// English text for the language model: Debian's `fortunes` package (apt-get install fortunes):
// 43 plain-text files in /usr/share/games/fortunes, 2.6 MB of quotations, literature, poems,
// definitions and jokes, each file a list of entries separated by lines holding only "%".
//
// Split: the entries of every file, files in name order, numbered from 0 across files; entry i
// goes to validation when i % 20 == 19 (5 %), else to training. Each split is its entries'
// bytes joined by "\n" in that order. Nothing random: the same package gives the same splits.
// Tokens are bytes (vocabulary 256), so bits per token are bits per byte.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "model/tokenizers/tokenizer.h"  // byte_tokens, kByteVocab

namespace chimera {

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

struct TextCorpus {
  std::string train, validation;  // bytes
  int64_t entries = 0, files = 0;
  std::string source;  // the folder read, for metadata and messages
};

// The split rule above over entries already read, in order.
TextCorpus split_entries(const std::vector<std::string>& entries);

// The entries of one fortune file's bytes, in order: "%"-lines separate them (a final "%" line
// or none both end the last entry); each entry keeps its own line breaks but not the one before
// the separator; empty entries are dropped. Lines end at "\n" only: bytes are kept as they are,
// so in a CRLF file "%\r" is not a separator. Any bytes parse, so this does not fail today;
// `source` names the file in errors.
std::vector<std::string> parse_fortune_file(const std::string& bytes, const std::string& source);

// Every regular file of `dir` whose name has no '.' (the text files; the .dat indexes and .u8
// links are skipped), in name order. Errors: the folder missing (naming the package to install),
// no text files, a file that cannot be read, no entries at all, a split left empty.
TextCorpus load_fortunes(const std::string& dir = kFortunesDir);

// Training batches: `batch` windows of context + 1 consecutive tokens from `tokens`, each start
// drawn uniformly from [0, size - context - 1] by a generator seeded from (seed, step), so step
// s's batch does not depend on what came before (a resumed run sees the same batches).
// ids [batch, context] and targets [batch * context] (ids shifted by one). Errors: a text
// shorter than context + 1 tokens, batch or context < 1.
struct TokenBatch {
  Tensor ids, targets;
};
TokenBatch sample_batch(const std::vector<int64_t>& tokens, int64_t batch, int64_t context,
                        uint64_t seed, int64_t step);

// Validation: consecutive non-overlapping windows from the start, the i-th window starting at
// i * context (targets from the next token), as many as fit whole, at most max_windows (0: all),
// grouped windows_per_batch to a batch (the last batch may hold fewer). Errors: a text shorter
// than context + 1 tokens (no window fits), context or windows_per_batch < 1, max_windows < 0.
std::vector<TokenBatch> validation_windows(const std::vector<int64_t>& tokens, int64_t context,
                                           int64_t windows_per_batch, int64_t max_windows);

}  // namespace chimera
