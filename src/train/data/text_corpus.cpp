#include "train/data/text_corpus.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/rng.h"

namespace chimera {
namespace {

constexpr int64_t kValidationEvery = 20;  // entry i goes to validation when i % 20 == 19

// splitmix64's finaliser: a bijection on 64 bits that spreads every input bit over the output.
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// One seed per (seed, step): each half goes through the bijection, so two steps of one seed
// never share a generator, and step s's batch needs nothing from the steps before it.
uint64_t step_seed(uint64_t seed, int64_t step) {
  return splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(step));
}

// The text files of `dir`, sorted by name: regular files (symlinks are not followed, so the
// .u8 links to the same text are not read twice) whose name has no '.' (.dat indexes, hidden
// files).
std::vector<std::string> fortune_file_names(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  CHIMERA_CHECK(fs::exists(dir, ec), "the fortunes folder '", dir,
                "' does not exist; install Debian's fortunes package (apt-get install fortunes, "
                "which fills ", kFortunesDir, "; scripts/setup.sh does it)");
  CHIMERA_CHECK(fs::is_directory(dir, ec), "'", dir,
                "' is not a folder; the fortunes text comes from a folder of fortune files "
                "(apt-get install fortunes puts them in ", kFortunesDir, ")");
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec), end;
  CHIMERA_CHECK(!ec, "cannot list the fortunes folder '", dir, "': ", ec.message());
  for (; it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find('.') == std::string::npos && fs::is_regular_file(it->symlink_status()))
      names.push_back(name);
  }
  CHIMERA_CHECK(!ec, "cannot list the fortunes folder '", dir, "': ", ec.message());
  CHIMERA_CHECK(!names.empty(), "the fortunes folder '", dir,
                "' holds no text files (regular files whose name has no '.'); reinstall the "
                "package (apt-get install --reinstall fortunes)");
  std::sort(names.begin(), names.end());
  return names;
}

// Bytes [from, to) of `bytes`, less one final '\n': the line break that ends an entry's last
// line belongs to the separator (or to the end of the file), not to the entry.
std::string entry_text(const std::string& bytes, size_t from, size_t to) {
  if (to > from && bytes[to - 1] == '\n') --to;
  return bytes.substr(from, to - from);
}

void check_window(int64_t available, int64_t context, const char* what) {
  CHIMERA_CHECK(context >= 1, what, ": context must be at least 1 token, got ", context);
  CHIMERA_CHECK(available >= context + 1, what, ": the text has ", available,
                " tokens, fewer than one window of context + 1 = ", context + 1,
                " (a shorter context, or a longer text)");
}

// ids [rows, context] from windows starting at starts[r], targets [rows * context] one further.
TokenBatch gather_windows(const std::vector<int64_t>& tokens, const std::vector<int64_t>& starts,
                          int64_t context) {
  const int64_t rows = static_cast<int64_t>(starts.size());
  TokenBatch b{Tensor::empty({rows, context}, DType::i64), Tensor::empty({rows * context}, DType::i64)};
  int64_t* ids = b.ids.data<int64_t>();
  int64_t* targets = b.targets.data<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t* window = tokens.data() + starts[r];
    std::copy(window, window + context, ids + r * context);
    std::copy(window + 1, window + context + 1, targets + r * context);
  }
  return b;
}

}  // namespace

TextCorpus split_entries(const std::vector<std::string>& entries) {
  TextCorpus corpus;
  corpus.entries = static_cast<int64_t>(entries.size());
  bool first_train = true, first_validation = true;
  for (size_t i = 0; i < entries.size(); ++i) {
    const bool validation = static_cast<int64_t>(i) % kValidationEvery == kValidationEvery - 1;
    std::string& out = validation ? corpus.validation : corpus.train;
    bool& first = validation ? first_validation : first_train;
    if (!first) out.push_back('\n');
    out += entries[i];
    first = false;
  }
  return corpus;
}

std::vector<std::string> parse_fortune_file(const std::string& bytes, const std::string& source) {
  // Any bytes parse (no encoding is assumed, "\r" is an ordinary byte), so nothing here fails;
  // `source` is kept for the messages of checks a stricter reader would add.
  std::vector<std::string> entries;
  size_t start = 0;  // where the current entry begins
  for (size_t line = 0; line < bytes.size();) {
    const size_t nl = bytes.find('\n', line);
    const size_t line_end = nl == std::string::npos ? bytes.size() : nl;
    if (line_end - line == 1 && bytes[line] == '%') {
      std::string entry = entry_text(bytes, start, line);
      if (!entry.empty()) entries.push_back(std::move(entry));
      start = nl == std::string::npos ? bytes.size() : nl + 1;
    }
    line = nl == std::string::npos ? bytes.size() : nl + 1;
  }
  std::string last = entry_text(bytes, start, bytes.size());  // a file need not end with "%"
  if (!last.empty()) entries.push_back(std::move(last));
  return entries;
}

TextCorpus load_fortunes(const std::string& dir) {
  const std::vector<std::string> names = fortune_file_names(dir);
  std::vector<std::string> entries;
  for (const std::string& name : names) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    for (std::string& e : parse_fortune_file(read_file(path), path)) entries.push_back(std::move(e));
  }
  CHIMERA_CHECK(!entries.empty(), "the fortunes folder '", dir, "' has ", names.size(),
                " text files but no entries in them (empty files?); reinstall the package "
                "(apt-get install --reinstall fortunes)");
  TextCorpus corpus = split_entries(entries);
  corpus.files = static_cast<int64_t>(names.size());
  corpus.source = dir;
  CHIMERA_CHECK(!corpus.train.empty() && !corpus.validation.empty(), "the fortunes folder '", dir,
                "' gives an empty ", corpus.train.empty() ? "training" : "validation",
                " split: its ", corpus.entries, " entries are too few (every ", kValidationEvery,
                "th entry goes to validation, so at least ", kValidationEvery,
                " are needed); the full package (apt-get install fortunes) has thousands");
  return corpus;
}

TokenBatch sample_batch(const std::vector<int64_t>& tokens, int64_t batch, int64_t context,
                        uint64_t seed, int64_t step) {
  CHIMERA_CHECK(batch >= 1, "sample_batch: batch must be at least 1 window, got ", batch);
  check_window(static_cast<int64_t>(tokens.size()), context, "sample_batch");
  // Starts 0 .. size - context - 1: the last window's target is the text's last token.
  const int64_t choices = static_cast<int64_t>(tokens.size()) - context;
  Rng rng(step_seed(seed, step));
  std::vector<int64_t> starts(static_cast<size_t>(batch));
  for (int64_t& s : starts) s = rng.below(choices);
  return gather_windows(tokens, starts, context);
}

std::vector<TokenBatch> validation_windows(const std::vector<int64_t>& tokens, int64_t context,
                                           int64_t windows_per_batch, int64_t max_windows) {
  CHIMERA_CHECK(windows_per_batch >= 1, "validation_windows: windows_per_batch must be at least 1, got ",
                windows_per_batch);
  CHIMERA_CHECK(max_windows >= 0, "validation_windows: max_windows must be 0 (all) or more, got ",
                max_windows);
  check_window(static_cast<int64_t>(tokens.size()), context, "validation_windows");
  // Window i reads tokens i * context .. i * context + context (its last target).
  int64_t count = (static_cast<int64_t>(tokens.size()) - 1) / context;
  if (max_windows > 0) count = std::min(count, max_windows);
  std::vector<TokenBatch> batches;
  for (int64_t first = 0; first < count; first += windows_per_batch) {
    std::vector<int64_t> starts;
    for (int64_t i = first; i < std::min(count, first + windows_per_batch); ++i)
      starts.push_back(i * context);
    batches.push_back(gather_windows(tokens, starts, context));
  }
  return batches;
}

}  // namespace chimera
