// The fortunes text corpus: parsing fortune files, the 1-in-20 split, loading a folder (folders
// the tests write, and every way one can be wrong), byte tokens, training batches, validation
// windows and, since scripts/setup.sh installs Debian's package, the real corpus.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "test_util.h"
#include "train/data/text_corpus.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;
using test::write_bytes;
using Entries = std::vector<std::string>;

// "e<i>": a short entry that says where it came from.
std::string entry_name(int i) { return std::string("e").append(std::to_string(i)); }

// "e<first>\n%\ne<first+1>\n%\n..." : `count` one-line entries numbered from `first`.
std::string numbered_fortunes(int first, int count) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    out += entry_name(i);
    out += "\n%\n";
  }
  return out;
}

std::vector<int64_t> iota_tokens(int64_t n) {
  std::vector<int64_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[static_cast<size_t>(i)] = (i * 7) % 256;
  return t;
}

std::vector<int64_t> values(const Tensor& t) {
  const int64_t* p = t.data<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

// ---- parse_fortune_file ----

TEST(ParseFortuneFile, SeparatorLinesSplitEntries) {
  EXPECT_EQ(parse_fortune_file("one\n%\ntwo\n%\nthree\n%\n", "f"), (Entries{"one", "two", "three"}));
}

TEST(ParseFortuneFile, FinalSeparatorOrNoneEndTheLastEntry) {
  const Entries want{"a", "b"};
  EXPECT_EQ(parse_fortune_file("a\n%\nb\n%\n", "f"), want);
  EXPECT_EQ(parse_fortune_file("a\n%\nb\n%", "f"), want);  // "%" with no newline after it
  EXPECT_EQ(parse_fortune_file("a\n%\nb\n", "f"), want);   // no final "%"
  EXPECT_EQ(parse_fortune_file("a\n%\nb", "f"), want);     // not even a final newline
}

TEST(ParseFortuneFile, EntryKeepsItsInnerLineBreaksButNotTheOneBeforeTheSeparator) {
  EXPECT_EQ(parse_fortune_file("line 1\nline 2\n\n  -- someone\n%\nx\n", "f"),
            (Entries{"line 1\nline 2\n\n  -- someone", "x"}));
  // A blank line before the separator is part of the entry: only one "\n" goes.
  EXPECT_EQ(parse_fortune_file("a\n\n%\n", "f"), (Entries{"a\n"}));
}

TEST(ParseFortuneFile, EmptyEntriesAreDropped) {
  EXPECT_EQ(parse_fortune_file("%\na\n%\n%\n%\nb\n%\n", "f"), (Entries{"a", "b"}));
  EXPECT_TRUE(parse_fortune_file("", "f").empty());
  EXPECT_TRUE(parse_fortune_file("%\n%\n%", "f").empty());
  EXPECT_TRUE(parse_fortune_file("\n%\n", "f").empty());  // the lone "\n" belongs to the separator
}

TEST(ParseFortuneFile, OnlyALineHoldingJustPercentSeparates) {
  EXPECT_EQ(parse_fortune_file("100%\n%%\n % \n%x\n%\nb\n", "f"),
            (Entries{"100%\n%%\n % \n%x", "b"}));
}

TEST(ParseFortuneFile, CrLfIsNotSpecialBytesStayAsTheyAre) {
  // "%\r" is not a line holding only "%", so a CRLF file is one entry, its bytes untouched.
  EXPECT_EQ(parse_fortune_file("a\r\n%\r\nb\r\n", "f"), (Entries{"a\r\n%\r\nb\r"}));
  // With "\n" separators the "\r" stays at the end of the entry's lines.
  EXPECT_EQ(parse_fortune_file("a\r\nb\r\n%\nc\r\n%\n", "f"), (Entries{"a\r\nb\r", "c\r"}));
}

TEST(ParseFortuneFile, KeepsNonAsciiAndNulBytes) {
  const std::string text = std::string("caf\xc3\xa9 \xff\x80", 8) + std::string(1, '\0') + "z";
  EXPECT_EQ(parse_fortune_file(text + "\n%\n", "f"), (Entries{text}));
}

// ---- split_entries ----

TEST(SplitEntries, EveryTwentiethEntryGoesToValidationJoinedByNewlines) {
  Entries entries;
  for (int i = 0; i < 45; ++i) entries.push_back(entry_name(i));
  const TextCorpus c = split_entries(entries);
  std::string train;
  for (int i = 0; i < 45; ++i)
    if (i != 19 && i != 39) train.append(train.empty() ? "" : "\n").append(entries[i]);
  EXPECT_EQ(c.train, train);
  EXPECT_EQ(c.train.substr(0, 12), "e0\ne1\ne2\ne3\n");
  EXPECT_EQ(c.validation, "e19\ne39");
  EXPECT_EQ(c.entries, 45);
}

TEST(SplitEntries, MultiLineEntriesAndCounts) {
  Entries entries(20, "x\ny");
  entries[19] = "v1\nv2";
  const TextCorpus c = split_entries(entries);
  EXPECT_EQ(c.validation, "v1\nv2");
  EXPECT_EQ(c.train.size(), 19 * 3 + 18u);  // 19 entries of 3 bytes, 18 "\n" between them
  EXPECT_EQ(c.entries, 20);
}

TEST(SplitEntries, FewerThanTwentyEntriesLeaveValidationEmpty) {
  const TextCorpus c = split_entries({"a", "b", "c"});
  EXPECT_EQ(c.train, "a\nb\nc");
  EXPECT_EQ(c.validation, "");
  EXPECT_EQ(c.entries, 3);
  EXPECT_TRUE(split_entries({}).train.empty());
}

// ---- load_fortunes ----

TEST(LoadFortunes, ReadsTextFilesInNameOrderNumberingEntriesAcrossFiles) {
  TempDir dir("chimera_test_text_corpus_load");
  // "b" holds entries 0..11, "c" 12..29, "d" 30..41; written out of order to test the sort.
  const std::string d = numbered_fortunes(30, 12);
  write_bytes(dir.path / "d", d.substr(0, d.size() - 2));  // no final "%" in this one
  write_bytes(dir.path / "b", numbered_fortunes(0, 12));
  write_bytes(dir.path / "c", numbered_fortunes(12, 18));
  // Not read: indexes, .u8 links, hidden files, symlinks, folders.
  write_bytes(dir.path / "b.dat", "binary index\n%\nNOT TEXT\n%\n");
  write_bytes(dir.path / ".hidden", "hidden\n%\n");
  fs::create_symlink("b", dir.path / "b.u8");
  fs::create_symlink("c", dir.path / "a_link");  // no '.', but a symlink
  fs::create_directory(dir.path / "subdir");
  write_bytes(dir.path / "subdir" / "x", "in a subfolder\n%\n");

  const TextCorpus c = load_fortunes(dir.path.string());
  EXPECT_EQ(c.files, 3);
  EXPECT_EQ(c.entries, 42);
  EXPECT_EQ(c.source, dir.path.string());
  EXPECT_EQ(c.validation, "e19\ne39");  // entry 19 from "c", entry 39 from "d"
  std::string train;
  for (int i = 0; i < 42; ++i)
    if (i != 19 && i != 39) train.append(train.empty() ? "" : "\n").append(entry_name(i));
  EXPECT_EQ(c.train, train);
}

TEST(LoadFortunes, KeepsTheFilesBytes) {
  TempDir dir("chimera_test_text_corpus_bytes");
  std::string text;
  for (int i = 0; i < 20; ++i) text += "line\r\n\xe2\x80\x94 " + std::to_string(i) + "\n%\n";
  write_bytes(dir.path / "only", text);
  const TextCorpus c = load_fortunes(dir.path.string());
  EXPECT_EQ(c.validation, "line\r\n\xe2\x80\x94 19");
  EXPECT_EQ(c.train.substr(0, 17), "line\r\n\xe2\x80\x94 0\nline\r");
}

TEST(LoadFortunes, MissingFolderSaysWhichPackageToInstall) {
  TempDir parent("chimera_test_no_such_fortunes");
  const std::string dir = (parent.path / "absent").string();
  const std::string msg = error_of([&] { load_fortunes(dir); });
  EXPECT_NE(msg.find(dir), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_NE(msg.find("apt-get install fortunes"), std::string::npos) << msg;
}

TEST(LoadFortunes, AFileInPlaceOfTheFolderIsAnError) {
  TempDir dir("chimera_test_text_corpus_notdir");
  write_bytes(dir.path / "plain", numbered_fortunes(0, 30));
  const std::string msg = error_of([&] { load_fortunes((dir.path / "plain").string()); });
  EXPECT_NE(msg.find("is not a folder"), std::string::npos) << msg;
}

TEST(LoadFortunes, FolderWithNoTextFilesIsAnError) {
  TempDir dir("chimera_test_text_corpus_notext");
  write_bytes(dir.path / "fortunes.dat", "index");
  write_bytes(dir.path / "notes.txt", numbered_fortunes(0, 30));
  fs::create_symlink("notes.txt", dir.path / "link");
  const std::string msg = error_of([&] { load_fortunes(dir.path.string()); });
  EXPECT_NE(msg.find(dir.path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("holds no text files"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { load_fortunes(TempDir("chimera_test_text_corpus_empty").path.string()); })
                .find("holds no text files"),
            std::string::npos);
}

TEST(LoadFortunes, TextFilesWithoutEntriesAreAnError) {
  TempDir dir("chimera_test_text_corpus_noentries");
  write_bytes(dir.path / "empty", "");
  write_bytes(dir.path / "separators", "%\n%\n\n%\n");
  const std::string msg = error_of([&] { load_fortunes(dir.path.string()); });
  EXPECT_NE(msg.find(dir.path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 text files but no entries"), std::string::npos) << msg;
}

TEST(LoadFortunes, TooFewEntriesForAValidationSplitIsAnError) {
  TempDir dir("chimera_test_text_corpus_few");
  write_bytes(dir.path / "few", numbered_fortunes(0, 19));
  const std::string msg = error_of([&] { load_fortunes(dir.path.string()); });
  EXPECT_NE(msg.find("empty validation split"), std::string::npos) << msg;
  EXPECT_NE(msg.find("19 entries"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at least 20"), std::string::npos) << msg;
  // One more entry and the split is whole.
  write_bytes(dir.path / "more", numbered_fortunes(19, 1));
  EXPECT_EQ(load_fortunes(dir.path.string()).validation, "e19");
}

// Debian's package, which scripts/setup.sh installs: 43 files, 2.6 MB.
TEST(LoadFortunes, DebianPackage) {
  ASSERT_TRUE(fs::is_directory(kFortunesDir))
      << kFortunesDir << " is missing: install Debian's fortunes package (apt-get install "
      << "fortunes, or run scripts/setup.sh as root)";
  const TextCorpus c = load_fortunes();
  const double total = static_cast<double>(c.train.size() + c.validation.size());
  EXPECT_GE(c.train.size(), 2000000u);
  EXPECT_GT(c.validation.size() / total, 0.03);
  EXPECT_LT(c.validation.size() / total, 0.07);
  EXPECT_GE(c.files, 40);
  EXPECT_GT(c.entries, 10000);
  EXPECT_EQ(c.source, kFortunesDir);
  EXPECT_EQ(c.train.find("\n%\n"), std::string::npos);  // no separator line left in the text
}

// ---- byte tokens ----

TEST(ByteTokens, EveryByteRoundTrips) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::vector<int64_t> ids = byte_tokens(all);
  ASSERT_EQ(ids.size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(ids[b], b);
  EXPECT_EQ(bytes_of_tokens(ids), all);
  EXPECT_EQ(byte_tokens("\xc3\xa9" "A"), (std::vector<int64_t>{195, 169, 65}));
  EXPECT_EQ(bytes_of_tokens({255, 128, 10}), "\xff\x80\n");
  EXPECT_TRUE(byte_tokens("").empty());
}

TEST(ByteTokens, IdsOutsideAByteAreAnError) {
  EXPECT_NE(error_of([] { bytes_of_tokens({65, 256}); }).find("token 1 is 256"), std::string::npos);
  EXPECT_NE(error_of([] { bytes_of_tokens({-1}); }).find("token 0 is -1"), std::string::npos);
}

// ---- sample_batch ----

TEST(SampleBatch, ShapesAndTargetsShiftedByOneWithinEachWindow) {
  const std::vector<int64_t> tokens = iota_tokens(1000);
  const TokenBatch b = sample_batch(tokens, 4, 16, 7, 0);
  EXPECT_EQ(b.ids.shape(), (Shape{4, 16}));
  EXPECT_EQ(b.targets.shape(), (Shape{64}));
  EXPECT_EQ(b.ids.dtype(), DType::i64);
  EXPECT_EQ(b.targets.dtype(), DType::i64);
  const std::vector<int64_t> ids = values(b.ids), targets = values(b.targets);
  for (int r = 0; r < 4; ++r) {
    // The window's start: where its first id sits in the text (ids (7 i) % 256 repeat every 256).
    int64_t start = -1;
    for (int64_t s = 0; s + 16 < 1000 && start < 0; ++s)
      if (std::equal(ids.begin() + r * 16, ids.begin() + r * 16 + 16, tokens.begin() + s)) start = s;
    ASSERT_GE(start, 0) << "row " << r << " is not a window of the text";
    for (int j = 0; j < 16; ++j) {
      EXPECT_EQ(targets[r * 16 + j], tokens[start + j + 1]);
      if (j + 1 < 16) {
        EXPECT_EQ(targets[r * 16 + j], ids[r * 16 + j + 1]);
      }
    }
  }
}

TEST(SampleBatch, SameSeedAndStepSameBatchOtherStepOrSeedAnother) {
  const std::vector<int64_t> tokens = iota_tokens(100000);
  const auto ids = [&](uint64_t seed, int64_t step) {
    return values(sample_batch(tokens, 8, 32, seed, step).ids);
  };
  EXPECT_EQ(ids(1, 5), ids(1, 5));
  // Step 5's batch does not depend on the steps drawn before it (a resumed run).
  sample_batch(tokens, 8, 32, 1, 4);
  EXPECT_EQ(ids(1, 5), ids(1, 5));
  EXPECT_NE(ids(1, 5), ids(1, 6));
  EXPECT_NE(ids(1, 5), ids(2, 5));
  EXPECT_NE(ids(1, 0), ids(0, 1));  // seed and step are not simply added
}

TEST(SampleBatch, EveryStartWithinRangeAndBothEndsReached) {
  // Token t is its own position, so a window's first id is its start.
  const int64_t n = 40, context = 8;
  std::vector<int64_t> tokens(n);
  for (int64_t i = 0; i < n; ++i) tokens[i] = i;
  std::set<int64_t> starts;
  for (int64_t step = 0; step < 200; ++step) {
    const TokenBatch b = sample_batch(tokens, 16, context, 3, step);
    const std::vector<int64_t> ids = values(b.ids), targets = values(b.targets);
    for (int64_t r = 0; r < 16; ++r) {
      const int64_t s = ids[r * context];
      ASSERT_GE(s, 0);
      ASSERT_LE(s, n - context - 1);
      for (int64_t j = 0; j < context; ++j) {
        ASSERT_EQ(ids[r * context + j], s + j);
        ASSERT_EQ(targets[r * context + j], s + j + 1);
      }
      starts.insert(s);
    }
  }
  EXPECT_EQ(starts.size(), static_cast<size_t>(n - context));  // 0 .. 31, each drawn
  // A text of exactly context + 1 tokens has one window.
  const TokenBatch one = sample_batch(std::vector<int64_t>{5, 6, 7}, 3, 2, 9, 1);
  EXPECT_EQ(values(one.ids), (std::vector<int64_t>{5, 6, 5, 6, 5, 6}));
  EXPECT_EQ(values(one.targets), (std::vector<int64_t>{6, 7, 6, 7, 6, 7}));
}

TEST(SampleBatch, Errors) {
  const std::vector<int64_t> tokens = iota_tokens(16);
  const std::string short_text = error_of([&] { sample_batch(tokens, 2, 16, 0, 0); });
  EXPECT_NE(short_text.find("has 16 tokens, fewer than one window of context + 1 = 17"),
            std::string::npos)
      << short_text;
  EXPECT_NE(error_of([&] { sample_batch({}, 1, 1, 0, 0); }).find("has 0 tokens"), std::string::npos);
  EXPECT_NE(error_of([&] { sample_batch(tokens, 0, 4, 0, 0); }).find("batch must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { sample_batch(tokens, 2, 0, 0, 0); }).find("context must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { sample_batch(tokens, 2, -3, 0, 0); }).find("context must be at least 1"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { sample_batch(tokens, 2, 15, 0, 0); }), "");
}

// ---- validation_windows ----

TEST(ValidationWindows, ConsecutiveWindowsFromTheStartGroupedIntoBatches) {
  std::vector<int64_t> tokens(23);
  for (int64_t i = 0; i < 23; ++i) tokens[i] = 100 + i;
  // (23 - 1) / 4 = 5 whole windows (the 5th's last target is token 20), 2 to a batch.
  const std::vector<TokenBatch> batches = validation_windows(tokens, 4, 2, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].ids.shape(), (Shape{2, 4}));
  EXPECT_EQ(batches[0].targets.shape(), (Shape{8}));
  EXPECT_EQ(batches[2].ids.shape(), (Shape{1, 4}));
  EXPECT_EQ(batches[2].targets.shape(), (Shape{4}));
  EXPECT_EQ(values(batches[0].ids), (std::vector<int64_t>{100, 101, 102, 103, 104, 105, 106, 107}));
  EXPECT_EQ(values(batches[0].targets),
            (std::vector<int64_t>{101, 102, 103, 104, 105, 106, 107, 108}));
  EXPECT_EQ(values(batches[1].ids), (std::vector<int64_t>{108, 109, 110, 111, 112, 113, 114, 115}));
  EXPECT_EQ(values(batches[2].ids), (std::vector<int64_t>{116, 117, 118, 119}));
  EXPECT_EQ(values(batches[2].targets), (std::vector<int64_t>{117, 118, 119, 120}));
}

TEST(ValidationWindows, WindowICountStartsAtIContext) {
  const std::vector<int64_t> tokens = iota_tokens(1001);
  const std::vector<TokenBatch> batches = validation_windows(tokens, 10, 7, 0);
  int64_t window = 0;
  for (const TokenBatch& b : batches) {
    const std::vector<int64_t> ids = values(b.ids), targets = values(b.targets);
    for (int64_t r = 0; r < b.ids.size(0); ++r, ++window)
      for (int64_t j = 0; j < 10; ++j) {
        ASSERT_EQ(ids[r * 10 + j], tokens[window * 10 + j]);
        ASSERT_EQ(targets[r * 10 + j], tokens[window * 10 + j + 1]);
      }
  }
  EXPECT_EQ(window, 100);  // windows 0..99: the last reads tokens 990..1000
  EXPECT_EQ(batches.size(), 15u);  // 14 of 7 and one of 2
  // One token fewer and the 100th window no longer fits whole.
  int64_t fewer = 0;
  for (const TokenBatch& b : validation_windows(iota_tokens(1000), 10, 7, 0)) fewer += b.ids.size(0);
  EXPECT_EQ(fewer, 99);
}

TEST(ValidationWindows, MaxWindowsLimitsTheCount) {
  const std::vector<int64_t> tokens = iota_tokens(1001);
  const auto count = [&](int64_t per_batch, int64_t max_windows) {
    int64_t n = 0;
    for (const TokenBatch& b : validation_windows(tokens, 10, per_batch, max_windows))
      n += b.ids.size(0);
    return n;
  };
  EXPECT_EQ(count(4, 9), 9);
  EXPECT_EQ(count(4, 8), 8);
  EXPECT_EQ(count(4, 100), 100);
  EXPECT_EQ(count(4, 500), 100);  // more than fit: all that fit
  EXPECT_EQ(validation_windows(tokens, 10, 4, 9).size(), 3u);
  const std::vector<TokenBatch> first = validation_windows(tokens, 10, 4, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].ids.shape(), (Shape{1, 10}));
  EXPECT_EQ(values(first[0].ids), std::vector<int64_t>(tokens.begin(), tokens.begin() + 10));
}

TEST(ValidationWindows, Errors) {
  const std::vector<int64_t> tokens = iota_tokens(10);
  EXPECT_NE(error_of([&] { validation_windows(tokens, 10, 1, 0); })
                .find("has 10 tokens, fewer than one window of context + 1 = 11"),
            std::string::npos);
  EXPECT_EQ(validation_windows(tokens, 9, 1, 0).size(), 1u);
  EXPECT_NE(error_of([&] { validation_windows(tokens, 0, 1, 0); }).find("context must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { validation_windows(tokens, 2, 0, 0); })
                .find("windows_per_batch must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { validation_windows(tokens, 2, 1, -1); }).find("max_windows must be 0"),
            std::string::npos);
}

}  // namespace
}  // namespace chimera
