// gzip through zlib, the IDX reader, the Fashion-MNIST loader (files the tests write, every way
// a file can be wrong) and, when Debian's package is installed, the real set.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <fstream>
#include <string>

#include "engine/io/atomic_file.h"
#include "engine/io/gzip.h"
#include "harness/experiments/ablation.h"
#include "harness/experiments/eval_checkpoint.h"
#include "harness/report/report.h"
#include "model/models/resnet20.h"
#include "test_util.h"
#include "train/data/batch_iterator.h"
#include "train/data/dataset_choice.h"
#include "train/data/fashion_mnist.h"
#include "train/data/idx_file.h"

namespace chimera {
namespace {

namespace fs = std::filesystem;
using test::error_of;
using test::TempDir;
using test::write_bytes;


// n images of 28 x 28: pixel k of image i = (i * 31 + k) % 256; label i = (i * 3) % 10.
IdxArray make_images(int64_t n) {
  IdxArray a{{n, 28, 28}, {}};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < 28 * 28; ++k) a.data.push_back(static_cast<uint8_t>((i * 31 + k) % 256));
  return a;
}
IdxArray make_labels(int64_t n) {
  IdxArray a{{n}, {}};
  for (int64_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>((i * 3) % 10));
  return a;
}

// The four files: 6 training and 4 test images, gzip-compressed unless `plain`.
void write_set(const fs::path& dir, bool plain = false) {
  fs::create_directories(dir);
  const std::string ext = plain ? "" : ".gz";
  write_bytes(dir / ("train-images-idx3-ubyte" + ext), idx_bytes(make_images(6), !plain));
  write_bytes(dir / ("train-labels-idx1-ubyte" + ext), idx_bytes(make_labels(6), !plain));
  write_bytes(dir / ("t10k-images-idx3-ubyte" + ext), idx_bytes(make_images(4), !plain));
  write_bytes(dir / ("t10k-labels-idx1-ubyte" + ext), idx_bytes(make_labels(4), !plain));
}

// ---------------------------------------------------------------- gzip

TEST(Gzip, RoundTripsAndReadsConcatenatedMembers) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 7 % 251));
  const std::string z = gzip_compress(data);
  EXPECT_TRUE(is_gzip(z));
  EXPECT_LT(z.size(), data.size());
  EXPECT_EQ(gzip_decompress(z, "x.gz"), data);
  EXPECT_EQ(gzip_decompress(z + gzip_compress("tail"), "x.gz"), data + "tail");
  EXPECT_EQ(gzip_decompress(gzip_compress(""), "empty.gz"), "");
}

TEST(Gzip, TruncatedCorruptAndTrailingGarbageAreErrorsNamingTheFile) {
  const std::string z = gzip_compress(std::string(5000, 'a') + std::string(5000, 'b'));
  EXPECT_NE(error_of([&] { gzip_decompress(z.substr(0, z.size() / 2), "half.gz"); })
                .find("'half.gz' is truncated"),
            std::string::npos);
  EXPECT_NE(error_of([&] { gzip_decompress(z.substr(0, z.size() - 3), "crc.gz"); })
                .find("'crc.gz' is truncated"),
            std::string::npos);
  std::string bad = z;
  bad[z.size() - 6] ^= 0x55;  // inside the CRC-32 of the trailer
  EXPECT_NE(error_of([&] { gzip_decompress(bad, "bad.gz"); }).find("'bad.gz' is corrupt gzip"),
            std::string::npos);
  std::string bad_data = z;
  bad_data[12] ^= 0xff;  // inside the deflate data
  EXPECT_NE(error_of([&] { gzip_decompress(bad_data, "d.gz"); }).find("'d.gz'"), std::string::npos);
  EXPECT_NE(error_of([&] { gzip_decompress(z + "junk", "j.gz"); }).find("garbage after the gzip"),
            std::string::npos);
  EXPECT_NE(error_of([&] { gzip_decompress("plain", "p"); }).find("not gzip data"),
            std::string::npos);
}

// ---------------------------------------------------------------- IDX

TEST(Idx, ReadsWhatItWritesPlainAndCompressed) {
  const TempDir dir("idx_round");
  const IdxArray images = make_images(3);
  for (bool gz : {false, true}) {
    const fs::path p = dir.path / (gz ? "a.gz" : "a");
    write_bytes(p, idx_bytes(images, gz));
    const IdxArray back = read_idx(p.string());
    EXPECT_EQ(back.dims, (std::vector<int64_t>{3, 28, 28}));
    EXPECT_EQ(back.data, images.data);
  }
  // The header bytes, as the format defines them: 00 00 08 03, then 3, 28, 28 big-endian.
  const std::string b = idx_bytes(images, false);
  EXPECT_EQ(b.substr(0, 8), std::string("\0\0\x08\x03\0\0\0\x03", 8));
  EXPECT_EQ(b.size(), 16u + 3 * 28 * 28);
}

TEST(Idx, EveryMalformedHeaderOrSizeIsAnErrorNamingTheFile) {
  const std::string good = idx_bytes(make_labels(5), false);  // 00 00 08 01 00 00 00 05 + 5
  auto error = [](const std::string& bytes) { return error_of([&] { parse_idx(bytes, "f.idx"); }); };
  auto expect = [&](const std::string& bytes, const std::string& what) {
    const std::string e = error(bytes);
    EXPECT_NE(e.find("'f.idx'"), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
  };
  expect("", "too short");
  expect(std::string("\0\0\x08", 3), "too short");
  std::string magic = good;
  magic[0] = 1;
  expect(magic, "IDX magic");
  std::string type = good;
  type[2] = 0x0D;  // float
  expect(type, "type 0xd");
  std::string dims0 = good;
  dims0[3] = 0;
  expect(dims0, "declares 0 dimensions");
  expect(good.substr(0, 6), "ends inside its header");
  expect(good.substr(0, good.size() - 1), "truncated?");
  expect(good + "x", "trailing bytes?");
  std::string huge = good;
  huge[4] = '\xff';  // 4 billion labels in a 13-byte file
  expect(huge, "data bytes but its dimensions need");
  EXPECT_NE(error(gzip_compress(good).substr(0, 10)).find("truncated"), std::string::npos);
  EXPECT_EQ(error(good), "");
}

TEST(Idx, MissingFileIsAnErrorNamingIt) {
  EXPECT_NE(error_of([] { read_idx("/nonexistent/train-images-idx3-ubyte.gz"); })
                .find("/nonexistent/train-images-idx3-ubyte.gz"),
            std::string::npos);
}

// ---------------------------------------------------------------- Fashion-MNIST

TEST(FashionMnist, LoadsPadsAndNormalisesWithTheTrainingStatistics) {
  const TempDir dir("fmnist_load");
  for (bool plain : {false, true}) {
    const fs::path root = dir.path / (plain ? "plain" : "gz");
    write_set(root, plain);
    const CifarData d = load_fashion_mnist(root.string());
    ASSERT_EQ(d.train.images.shape(), (Shape{6, 1, 32, 32}));
    ASSERT_EQ(d.test.images.shape(), (Shape{4, 1, 32, 32}));
    const FashionMnistSplit train = read_fashion_mnist_split(
        (root / ("train-images-idx3-ubyte" + std::string(plain ? "" : ".gz"))).string(),
        (root / ("train-labels-idx1-ubyte" + std::string(plain ? "" : ".gz"))).string());
    const PixelStats s = pixel_stats(train);
    // Mean and std computed independently here.
    double sum = 0, sq = 0;
    for (uint8_t p : train.images.data) sum += p / 255.0, sq += (p / 255.0) * (p / 255.0);
    const double n = static_cast<double>(train.images.data.size()), mean = sum / n;
    EXPECT_FLOAT_EQ(s.mean, static_cast<float>(mean));
    EXPECT_FLOAT_EQ(s.std, static_cast<float>(std::sqrt(sq / n - mean * mean)));
    auto pixel = [&](uint8_t p) { return (static_cast<float>(p) / 255.0f - s.mean) / s.std; };
    const float* img = d.test.images.f32();
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(d.test.labels.data<int64_t>()[i], (i * 3) % 10);
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) {
          const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          const uint8_t p =
              inside ? static_cast<uint8_t>((i * 31 + (y - 2) * 28 + (x - 2)) % 256) : 0;
          ASSERT_EQ(img[(i * 32 + y) * 32 + x], pixel(p)) << i << " " << y << " " << x;
        }
    }
    EXPECT_EQ(d.train.padding_value[0], pixel(0));
  }
}

TEST(FashionMnist, BadFilesAreErrorsNamingTheFile) {
  const TempDir dir("fmnist_bad");
  auto error_with = [&](const std::string& file, const std::string& bytes) {
    const fs::path root = dir.path / file;
    fs::remove_all(root);
    write_set(root);
    write_bytes(root / file, bytes);
    return error_of([&] { load_fashion_mnist(root.string()); });
  };
  auto expect = [](const std::string& e, const std::string& file, const std::string& what) {
    EXPECT_NE(e.find(file), std::string::npos) << e;
    EXPECT_NE(e.find(what), std::string::npos) << e;
  };
  const std::string images = "train-images-idx3-ubyte.gz", labels = "t10k-labels-idx1-ubyte.gz";
  std::string wrong_magic = idx_bytes(make_images(6), false);
  wrong_magic[1] = 3;
  expect(error_with(images, gzip_compress(wrong_magic)), images, "IDX magic");
  expect(error_with(images, idx_bytes(make_images(5), true)), "6 labels", "5 images");
  expect(error_with(labels, idx_bytes(make_labels(3), true)), labels, "3 labels");
  const std::string z = idx_bytes(make_images(6), true);
  expect(error_with(images, z.substr(0, z.size() - 100)), images, "truncated");
  std::string corrupt = z;
  corrupt[corrupt.size() - 7] ^= 0x21;
  expect(error_with(images, corrupt), images, "corrupt gzip");
  IdxArray bad_label = make_labels(4);
  bad_label.data[2] = 10;
  expect(error_with(labels, idx_bytes(bad_label, true)), labels, "label 2 is 10");
  expect(error_with(images, idx_bytes(make_labels(6), true)), images, "not images [N, 28, 28]");
  expect(error_with(labels, idx_bytes(make_images(4), true)), labels, "not labels [N]");
  // A missing file names what was looked for and how to get it.
  const fs::path root = dir.path / "missing";
  write_set(root);
  fs::remove(root / "t10k-images-idx3-ubyte.gz");
  expect(error_of([&] { load_fashion_mnist(root.string()); }), "t10k-images-idx3-ubyte",
         "apt-get install dataset-fashion-mnist");
}

TEST(FashionMnist, BatchesAugmentOneChannelAndResNetTakesIt) {
  const TempDir dir("fmnist_batches");
  write_set(dir.path);
  const CifarData d = load_fashion_mnist(dir.path.string());
  BatchOptions o;
  o.batch_size = 4;
  o.augment = true;
  o.prefetch = false;
  BatchIterator it(d.train, o, 0);
  const Batch b = *it.next();
  ASSERT_EQ(b.images.shape(), (Shape{4, 1, 32, 32}));
  ResNet20Options options;
  options.in_channels = dataset_channels(DatasetKind::fashion_mnist);
  Rng rng(3);
  ChimeraResNet20 model(options, rng);
  model.eval();
  const Tensor logits = model.forward(Var(b.images)).value();
  EXPECT_EQ(logits.shape(), (Shape{4, 10}));
}

TEST(DatasetChoice, NamesRoundTripAndUnknownNamesAreErrors) {
  for (DatasetKind k : {DatasetKind::cifar10, DatasetKind::fashion_mnist, DatasetKind::synthetic})
    EXPECT_EQ(parse_dataset_kind(dataset_kind_name(k)), k);
  EXPECT_EQ(dataset_channels(DatasetKind::fashion_mnist), 1);
  EXPECT_EQ(dataset_channels(DatasetKind::cifar10), 3);
  EXPECT_EQ(default_dataset_root(DatasetKind::fashion_mnist), kFashionMnistDir);
  EXPECT_NE(error_of([] { parse_dataset_kind("mnist"); }).find("cifar10, fashion-mnist or synthetic"),
            std::string::npos);
}

// The main job on a tiny set the test writes: three rows, each model file evaluating exactly as
// its checkpoint did during training, ternary files near their effective bits, the table written.
TEST(Ablation, RunsExportsEvaluatesAndTabulatesTheThreeModes) {
  const TempDir dir("ablation_tiny");
  const fs::path data = dir.path / "data";
  fs::create_directories(data);
  write_bytes(data / "train-images-idx3-ubyte.gz", idx_bytes(make_images(48), true));
  write_bytes(data / "train-labels-idx1-ubyte.gz", idx_bytes(make_labels(48), true));
  write_bytes(data / "t10k-images-idx3-ubyte.gz", idx_bytes(make_images(20), true));
  write_bytes(data / "t10k-labels-idx1-ubyte.gz", idx_bytes(make_labels(20), true));
  AblationArgs a = short_ablation();
  a.base.dataset_root = data.string();
  a.base.epochs = 1;
  a.base.batch_size = 16;
  a.base.max_batches = 3;  // two steps with a flip rate to draw
  a.base.eval_batch_size = 10;
  a.out_dir = (dir.path / "out").string();
  std::ostringstream out;
  const std::vector<Json> rows = run_ablation(a, out);
  ASSERT_EQ(rows.size(), 3u);
  const char* modes[] = {"fp32_baseline", "strict_bitnet", "chimera"};
  for (size_t i = 0; i < 3; ++i) {
    const Json& r = rows[i];
    SCOPED_TRACE(modes[i]);
    EXPECT_EQ(r.at("mode"), modes[i]);
    EXPECT_EQ(r.at("test_accuracy"), r.at("checkpoint_test_accuracy"));
    EXPECT_TRUE(fs::exists(r.at("model_file").get<std::string>()));
    EXPECT_GT(r.at("file_bytes").get<int64_t>(), 0);
    EXPECT_GT(r.at("train_images_per_s").get<double>(), 0);
    EXPECT_GT(r.at("eval_images_per_s").get<double>(), 0);
    if (i == 0) {
      EXPECT_TRUE(r.at("zero_share").is_null());
      EXPECT_EQ(r.at("bits_per_weight"), 32.0);
    } else {
      EXPECT_GT(r.at("bits_per_weight").get<double>(), 0.0);
      EXPECT_LT(r.at("bits_per_weight").get<double>(), 2.0);
      EXPECT_LE(r.at("effective_bits").get<double>(), 1.5850);  // log2(3)
    }
  }
  const std::string table = read_file((dir.path / "out" / "table.md").string());
  for (const char* m : modes) EXPECT_NE(table.find(std::string("| ") + m + " |"), std::string::npos);
  EXPECT_NE(out.str().find("table:   "), std::string::npos);
  // The report of this short real run: every figure a PNG with data drawn in it, linked.
  const fs::path report = dir.path / "out" / "report";
  const std::string html = read_file((report / "index.html").string());
  for (const std::string& f : report_figures()) {
    SCOPED_TRACE(f);
    EXPECT_NE(html.find("<img src=\"" + f + "\""), std::string::npos);
    EXPECT_GT(test::png_size(report / f).first, 300u);
    EXPECT_GT(test::matplotlib_data_share(report / f), 0.0005) << "no data drawn in the figure";
  }
  EXPECT_NE(out.str().find("report:  " + (report / "index.html").string()), std::string::npos);
  // The checkpoint records a 1-channel stem: a 3-channel dataset is refused before any loading.
  EvalArgs wrong;
  wrong.checkpoint = rows[2].at("checkpoint").get<std::string>();
  wrong.dataset = "cifar10";
  EXPECT_NE(error_of([&] { eval_checkpoint(wrong); })
                .find("the model takes 1-channel images, cifar10 has 3"),
            std::string::npos);
}

// Debian's files (dataset-fashion-mnist, which scripts/setup.sh installs): the published sizes
// and a class balance of 6000 / 1000 per class.
TEST(FashionMnist, DebianPackageHasTheRealSet) {
  ASSERT_TRUE(fs::exists(kFashionMnistDir))
      << kFashionMnistDir << " is missing: apt-get install dataset-fashion-mnist";
  const CifarData d = load_fashion_mnist();
  EXPECT_EQ(d.train.size(), 60000);
  EXPECT_EQ(d.test.size(), 10000);
  int64_t per_class[10] = {};
  for (int64_t i = 0; i < d.test.size(); ++i) ++per_class[d.test.labels.data<int64_t>()[i]];
  for (int64_t c : per_class) EXPECT_EQ(c, 1000);
}

}  // namespace
}  // namespace chimera
