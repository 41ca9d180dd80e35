// CIFAR-10 binary reader and loader, the batch iterator, and the reference's smoke data.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "engine/io/atomic_file.h"
#include "test_util.h"
#include "train/data/batch_iterator.h"
#include "train/data/cifar_binary.h"
#include "train/data/cifar_download.h"
#include "train/data/cifar_loader.h"
#include "train/data/smoke_data.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using test::write_bytes;

using test::TempDir;

// `count` records; record i has label (first_label + i) % 10 and pixel k = (i * 7 + k) % 256.
CifarRecords make_records(int64_t count, int first_label = 0) {
  CifarRecords r;
  for (int64_t i = 0; i < count; ++i) {
    r.labels.push_back(static_cast<uint8_t>((first_label + i) % 10));
    for (int64_t k = 0; k < kCifarImageBytes; ++k)
      r.pixels.push_back(static_cast<uint8_t>((i * 7 + k) % 256));
  }
  return r;
}

// Train file f holds 2 records labelled from f, the test file 3 records labelled from 7.
void write_dataset(const fs::path& dir) {
  fs::create_directories(dir);
  for (int f = 0; f < 5; ++f) {
    const CifarRecords r = make_records(2, f);
    write_cifar_binary((dir / kCifarTrainFiles[f]).string(), r, 0, r.size());
  }
  const CifarRecords test = make_records(3, 7);
  write_cifar_binary((dir / kCifarTestFile).string(), test, 0, test.size());
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---- reader ----

TEST(CifarBinary, NormalisesLikeTorchvisionInFloat32) {
  // Expected values from numpy float32: (p / 255 - mean[c]) / std[c], one rounding per step.
  EXPECT_EQ(normalize_cifar_pixel(0, 0), -0x1.fd4e26p+0f);
  EXPECT_EQ(normalize_cifar_pixel(1, 0), -0x1.f93da6p+0f);
  EXPECT_EQ(normalize_cifar_pixel(255, 1), 0x1.1030c8p+1f);
  EXPECT_EQ(normalize_cifar_pixel(77, 1), -0x1.7afbc4p-1f);
  EXPECT_EQ(normalize_cifar_pixel(128, 2), 0x1.b2304ap-3f);
  EXPECT_EQ(normalize_cifar_pixel(254, 2), 0x1.0ce82ap+1f);
}

TEST(CifarBinary, CraftedFileGivesPlanesLabelsAndNormalisedValues) {
  TempDir dir("chimera_cifar_crafted");
  // Record 0: label 3, R plane all 0, G plane all 255, B plane all 128. Record 1: label 9,
  // R(0, 1) = 1, G(31, 31) = 77, B(5, 2) = 254, everything else 0.
  std::string bytes(2 * kCifarRecordBytes, '\0');
  bytes[0] = 3;
  std::memset(&bytes[1 + 1024], 255, 1024);
  std::memset(&bytes[1 + 2048], 128, 1024);
  char* r1 = &bytes[kCifarRecordBytes];
  r1[0] = 9;
  r1[1 + 1] = 1;
  r1[1 + 1024 + 31 * 32 + 31] = 77;
  r1[1 + 2048 + 5 * 32 + 2] = static_cast<char>(254);
  const fs::path file = dir.path / "crafted.bin";
  write_bytes(file, bytes);

  const CifarRecords records = read_cifar_binary(file.string());
  ASSERT_EQ(records.size(), 2);
  const Dataset d = normalize_cifar(records);
  ASSERT_EQ(d.images.shape(), (Shape{2, 3, 32, 32}));
  ASSERT_EQ(d.labels.dtype(), DType::i64);
  EXPECT_EQ(d.labels.data<int64_t>()[0], 3);
  EXPECT_EQ(d.labels.data<int64_t>()[1], 9);
  const float* x = d.images.f32();
  auto at = [&](int n, int c, int y, int xx) { return x[((n * 3 + c) * 32 + y) * 32 + xx]; };
  EXPECT_EQ(at(0, 0, 17, 4), -0x1.fd4e26p+0f);
  EXPECT_EQ(at(0, 1, 0, 31), 0x1.1030c8p+1f);
  EXPECT_EQ(at(0, 2, 31, 0), 0x1.b2304ap-3f);
  EXPECT_EQ(at(1, 0, 0, 1), -0x1.f93da6p+0f);
  EXPECT_EQ(at(1, 0, 0, 0), -0x1.fd4e26p+0f);
  EXPECT_EQ(at(1, 1, 31, 31), -0x1.7afbc4p-1f);
  EXPECT_EQ(at(1, 2, 5, 2), 0x1.0ce82ap+1f);
  // Augmentation pads with what a black pixel becomes.
  for (int c = 0; c < 3; ++c) EXPECT_EQ(d.padding_value[c], normalize_cifar_pixel(0, c));
}

TEST(CifarBinary, WriteThenReadRoundTrips) {
  TempDir dir("chimera_cifar_roundtrip");
  const CifarRecords r = make_records(6, 4);
  const std::string file = (dir.path / "part.bin").string();
  write_cifar_binary(file, r, 2, 5);
  EXPECT_EQ(fs::file_size(file), 3u * kCifarRecordBytes);
  const CifarRecords back = read_cifar_binary(file);
  ASSERT_EQ(back.size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(back.labels[i], r.labels[i + 2]);
  EXPECT_TRUE(
      std::equal(back.pixels.begin(), back.pixels.end(), r.pixels.begin() + 2 * kCifarImageBytes));
}

TEST(CifarBinary, SizeErrorsNameTheFile) {
  TempDir dir("chimera_cifar_size");
  const fs::path file = dir.path / "short.bin";
  write_bytes(file, std::string(2 * kCifarRecordBytes + 5, '\0'));
  const std::string message = error_of([&] { read_cifar_binary(file.string()); });
  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "6151 bytes")) << message;
  EXPECT_TRUE(contains(message, "3073-byte")) << message;

  const fs::path empty = dir.path / "empty.bin";
  write_bytes(empty, "");
  EXPECT_TRUE(contains(error_of([&] { read_cifar_binary(empty.string()); }), "0 bytes"));
  EXPECT_TRUE(contains(error_of([&] { read_cifar_binary((dir.path / "none.bin").string()); }),
                       "none.bin"));
}

TEST(CifarBinary, LabelErrorNamesFileAndRecord) {
  TempDir dir("chimera_cifar_label");
  std::string bytes(3 * kCifarRecordBytes, '\0');
  bytes[kCifarRecordBytes * 2] = 10;
  const fs::path file = dir.path / "bad_label.bin";
  write_bytes(file, bytes);
  const std::string message = error_of([&] { read_cifar_binary(file.string()); });
  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "record 2 has label 10")) << message;

  CifarRecords r = make_records(2);
  r.labels[1] = 12;
  EXPECT_TRUE(contains(error_of([&] { write_cifar_binary(file.string(), r, 0, 2); }),
                       "record 1 has label 12"));
}

// ---- loader ----

void expect_small_dataset(const CifarData& data) {
  ASSERT_EQ(data.train.size(), 10);
  ASSERT_EQ(data.test.size(), 3);
  // data_batch_1..5 in order: file f contributes labels f, f + 1.
  const int64_t* y = data.train.labels.data<int64_t>();
  for (int f = 0; f < 5; ++f) {
    EXPECT_EQ(y[2 * f], f);
    EXPECT_EQ(y[2 * f + 1], f + 1);
  }
  EXPECT_EQ(data.test.labels.data<int64_t>()[0], 7);
  EXPECT_EQ(data.test.labels.data<int64_t>()[2], 9);
  // Record 1 of file 1, pixel 0 of the G plane: (1 * 7 + 1024) % 256 = 7.
  EXPECT_EQ(data.train.images.f32()[3 * 3072 + 1024], normalize_cifar_pixel(7, 1));
}

TEST(CifarLoader, ReadsFilesInTheRoot) {
  TempDir dir("chimera_cifar_root");
  write_dataset(dir.path);
  EXPECT_EQ(find_cifar_dir(dir.path.string()), dir.path.string());
  expect_small_dataset(load_cifar(dir.path.string()));
}

TEST(CifarLoader, ReadsTheArchiveSubfolder) {
  TempDir dir("chimera_cifar_sub");
  write_dataset(dir.path / kCifarFolder);
  EXPECT_EQ(find_cifar_dir(dir.path.string()), (dir.path / kCifarFolder).string());
  expect_small_dataset(load_cifar(dir.path.string()));
}

TEST(CifarLoader, MissingDataSaysWhereItLookedAndHowToGetIt) {
  TempDir dir("chimera_cifar_missing");
  EXPECT_FALSE(find_cifar_dir(dir.path.string()).has_value());
  const std::string message = error_of([&] { load_cifar(dir.path.string()); });
  const std::string root = dir.path.string();
  EXPECT_TRUE(contains(message, "in '" + root + "' or")) << message;
  EXPECT_TRUE(contains(message, (dir.path / kCifarFolder).string())) << message;
  EXPECT_TRUE(contains(message, "--download")) << message;
  EXPECT_TRUE(contains(message, kCifarUrl)) << message;
  // Nothing was fetched or created.
  EXPECT_TRUE(fs::is_empty(dir.path));
}

TEST(CifarLoader, IncompleteFolderNamesTheMissingFile) {
  TempDir dir("chimera_cifar_incomplete");
  write_dataset(dir.path);
  fs::remove(dir.path / kCifarTestFile);
  const std::string message = error_of([&] { load_cifar(dir.path.string()); });
  EXPECT_TRUE(contains(message, "test_batch.bin is missing")) << message;
}

TEST(CifarLoader, BadRecordInAFileIsReportedWithItsPath) {
  TempDir dir("chimera_cifar_badfile");
  write_dataset(dir.path);
  const fs::path file = dir.path / "data_batch_3.bin";
  std::string bytes = read_file(file.string());
  bytes[kCifarRecordBytes] = static_cast<char>(200);
  write_bytes(file, bytes);
  const std::string message = error_of([&] { load_cifar(dir.path.string()); });
  EXPECT_TRUE(contains(message, file.string())) << message;
  EXPECT_TRUE(contains(message, "record 1 has label 200")) << message;
}

// ---- batch iterator ----

// n images whose every value is the image's index, labels index % 10.
Dataset indexed_dataset(int64_t n) {
  Dataset d;
  d.images = Tensor({n, 3, 32, 32});
  d.labels = Tensor({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) {
    std::fill(d.images.f32() + i * 3072, d.images.f32() + (i + 1) * 3072, static_cast<float>(i));
    d.labels.data<int64_t>()[i] = i % 10;
  }
  return d;
}

std::vector<Batch> all_batches(const Dataset& d, const BatchOptions& options, int64_t epoch) {
  BatchIterator it(d, options, epoch);
  std::vector<Batch> out;
  while (auto batch = it.next()) out.push_back(*batch);
  EXPECT_FALSE(it.next().has_value());
  return out;
}

std::vector<int64_t> order_of(const std::vector<Batch>& batches) {
  std::vector<int64_t> order;
  for (const Batch& b : batches)
    for (int64_t j = 0; j < b.labels.numel(); ++j)
      order.push_back(static_cast<int64_t>(b.images.f32()[j * 3072]));
  return order;
}

bool same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].images.shape() != b[i].images.shape() || a[i].labels.shape() != b[i].labels.shape())
      return false;
    if (std::memcmp(a[i].images.raw(), b[i].images.raw(), a[i].images.nbytes()) != 0 ||
        std::memcmp(a[i].labels.raw(), b[i].labels.raw(), a[i].labels.nbytes()) != 0)
      return false;
  }
  return true;
}

TEST(BatchIterator, UnshuffledBatchesKeepTheOrderAndTypes) {
  const Dataset d = indexed_dataset(25);
  BatchOptions options;
  options.batch_size = 10;
  const std::vector<Batch> batches = all_batches(d, options, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].images.shape(), (Shape{10, 3, 32, 32}));
  EXPECT_EQ(batches[0].images.dtype(), DType::f32);
  EXPECT_EQ(batches[0].labels.dtype(), DType::i64);
  EXPECT_EQ(batches[2].images.shape(), (Shape{5, 3, 32, 32}));  // the last, partial batch
  const std::vector<int64_t> order = order_of(batches);
  for (int64_t i = 0; i < 25; ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(batches[1].labels.data<int64_t>()[3], 13 % 10);
}

TEST(BatchIterator, ShuffleIsAPermutationFixedBySeedAndEpoch) {
  const Dataset d = indexed_dataset(50);
  BatchOptions options;
  options.batch_size = 8;
  options.shuffle = true;
  options.seed = 11;
  const std::vector<int64_t> a = order_of(all_batches(d, options, 0));
  EXPECT_EQ(a, order_of(all_batches(d, options, 0)));
  EXPECT_EQ(std::set<int64_t>(a.begin(), a.end()).size(), 50u);
  EXPECT_EQ(a.size(), 50u);
  std::vector<int64_t> identity(50);
  for (int64_t i = 0; i < 50; ++i) identity[i] = i;
  EXPECT_NE(a, identity);
  EXPECT_NE(a, order_of(all_batches(d, options, 1)));  // a new order every epoch
  options.seed = 12;
  EXPECT_NE(a, order_of(all_batches(d, options, 0)));
}

TEST(BatchIterator, LabelsFollowTheirImages) {
  const Dataset d = indexed_dataset(30);
  BatchOptions options;
  options.batch_size = 7;
  options.shuffle = true;
  options.seed = 3;
  for (const Batch& b : all_batches(d, options, 2))
    for (int64_t j = 0; j < b.labels.numel(); ++j)
      EXPECT_EQ(b.labels.data<int64_t>()[j], static_cast<int64_t>(b.images.f32()[j * 3072]) % 10);
}

TEST(BatchIterator, MaxBatchesCapsTheEpoch) {
  const Dataset d = indexed_dataset(25);
  BatchOptions options;
  options.batch_size = 4;
  EXPECT_EQ(count_batches(25, options), 7);
  options.max_batches = 3;
  EXPECT_EQ(count_batches(25, options), 3);
  EXPECT_EQ(all_batches(d, options, 0).size(), 3u);
  EXPECT_EQ(BatchIterator(d, options, 0).num_batches(), 3);
  options.max_batches = 100;
  EXPECT_EQ(all_batches(d, options, 0).size(), 7u);
  EXPECT_EQ(
      all_batches(Dataset{Tensor({0, 3, 32, 32}), Tensor({0}, DType::i64)}, options, 0).size(), 0u);
}

// n images in which every value differs, so any crop or flip is recognisable.
Dataset random_dataset(int64_t n) {
  Dataset d;
  d.images = Tensor({n, 3, 32, 32});
  for (int64_t i = 0; i < d.images.numel(); ++i) d.images.f32()[i] = static_cast<float>(i + 1);
  d.labels = Tensor({n}, DType::i64);
  d.padding_value = {-1.0f, -2.0f, -3.0f};
  return d;
}

TEST(BatchIterator, PrefetchGivesTheSameBatchesAsTheSynchronousPath) {
  const Dataset d = random_dataset(37);
  BatchOptions options;
  options.batch_size = 5;
  options.shuffle = true;
  options.augment = true;
  options.seed = 5;
  options.prefetch = true;
  const std::vector<Batch> prefetched = all_batches(d, options, 4);
  options.prefetch = false;
  const std::vector<Batch> synchronous = all_batches(d, options, 4);
  EXPECT_EQ(prefetched.size(), 8u);
  EXPECT_TRUE(same_batches(prefetched, synchronous));
  // Abandoning an iterator with a batch in flight is safe.
  options.prefetch = true;
  BatchIterator it(d, options, 0);
  EXPECT_TRUE(it.next().has_value());
}

// The crop of image `src` at padded offset (dy, dx), mirrored when flip, written independently
// of the iterator: out(y, x) = src(y + dy - 4, (flip ? 31 - x : x) + dx - 4), or the padding.
bool is_crop(const float* out, const float* src, const std::array<float, 3>& pad, int dy, int dx,
             bool flip) {
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const int sy = y + dy - 4, sx = (flip ? 31 - x : x) + dx - 4;
        const bool inside = sy >= 0 && sy < 32 && sx >= 0 && sx < 32;
        const float want = inside ? src[(c * 32 + sy) * 32 + sx] : pad[c];
        if (out[(c * 32 + y) * 32 + x] != want) return false;
      }
  return true;
}

TEST(BatchIterator, AugmentationIsACropWithPaddingAndAFlipFixedBySeed) {
  const Dataset d = random_dataset(64);
  BatchOptions options;
  options.batch_size = 16;
  options.augment = true;
  options.seed = 9;
  const std::vector<Batch> batches = all_batches(d, options, 0);
  EXPECT_TRUE(same_batches(batches, all_batches(d, options, 0)));
  EXPECT_FALSE(same_batches(batches, all_batches(d, options, 1)));
  std::set<std::tuple<int, int, bool>> seen;
  int64_t index = 0;
  for (const Batch& b : batches) {
    ASSERT_EQ(b.images.shape(), (Shape{16, 3, 32, 32}));
    for (int64_t j = 0; j < 16; ++j, ++index) {
      const float* out = b.images.f32() + j * 3072;
      const float* src = d.images.f32() + index * 3072;  // unshuffled
      int matches = 0;
      for (int dy = 0; dy <= 8; ++dy)
        for (int dx = 0; dx <= 8; ++dx)
          for (bool flip : {false, true})
            if (is_crop(out, src, d.padding_value, dy, dx, flip)) {
              ++matches;
              seen.insert({dy, dx, flip});
            }
      EXPECT_EQ(matches, 1) << "sample " << index;
    }
  }
  // 64 draws from 162 (dy, dx, flip) choices: many distinct ones, flips included.
  EXPECT_GT(seen.size(), 40u);
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](auto& s) { return std::get<2>(s); }));
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](auto& s) { return !std::get<2>(s); }));
}

TEST(BatchIterator, RejectsBadOptionsAndDatasets) {
  const Dataset d = indexed_dataset(4);
  BatchOptions options;
  options.batch_size = 0;
  EXPECT_TRUE(contains(error_of([&] { BatchIterator(d, options, 0); }), "batch size"));
  options.batch_size = 2;
  options.max_batches = -1;
  EXPECT_TRUE(contains(error_of([&] { BatchIterator(d, options, 0); }), "max batches"));
  options.max_batches = 0;
  Dataset flat{Tensor({4, 3072}), d.labels};
  EXPECT_TRUE(contains(error_of([&] { BatchIterator(flat, options, 0); }), "[4, 3072]"));
}

// ---- the reference's --synthetic smoke data ----

TEST(SmokeData, SizesLabelsAndDeterminismFollowTheReference) {
  const CifarData a = synthetic_cifar(4, 3, 5, 0, 7);
  EXPECT_EQ(a.train.images.shape(), (Shape{12, 3, 32, 32}));  // max_batches * batch_size
  EXPECT_EQ(a.test.images.shape(), (Shape{5, 3, 32, 32}));    // max(0, 1) * eval_batch_size
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(a.train.labels.data<int64_t>()[i], i % 10);
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(a.test.labels.data<int64_t>()[i], i % 10);
  const CifarData b = synthetic_cifar(4, 3, 5, 0, 7);
  EXPECT_EQ(0, std::memcmp(a.train.images.raw(), b.train.images.raw(), a.train.images.nbytes()));
  EXPECT_EQ(0, std::memcmp(a.test.images.raw(), b.test.images.raw(), a.test.images.nbytes()));
  const CifarData c = synthetic_cifar(4, 3, 5, 0, 8);
  EXPECT_NE(0, std::memcmp(a.train.images.raw(), c.train.images.raw(), a.train.images.nbytes()));
  EXPECT_NE(0, std::memcmp(a.train.images.raw(), a.test.images.raw(), a.test.images.nbytes()));
}

TEST(SmokeData, ImagesAreStandardNormal) {
  const CifarData data = synthetic_cifar(64, 4, 16, 1, 1);  // 256 x 3072 values
  const Tensor& x = data.train.images;
  double sum = 0.0, sq = 0.0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    sum += x.f32()[i];
    sq += static_cast<double>(x.f32()[i]) * x.f32()[i];
  }
  const double mean = sum / x.numel(), var = sq / x.numel() - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.01);
  EXPECT_TRUE(contains(error_of([] { synthetic_cifar(0, 1, 1, 1, 0); }), "--batch-size 0"));
}

}  // namespace
}  // namespace chimera
