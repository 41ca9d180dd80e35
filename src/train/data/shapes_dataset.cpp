#include "train/data/shapes_dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "engine/io/atomic_file.h"
#include "engine/rng.h"
#include "train/data/cifar_loader.h"

namespace chimera {

namespace {

constexpr int kMinSize = 10, kMaxSize = 18;  // shape side in pixels
constexpr int kMinContrast = 240;            // |fg - bg| summed over R, G, B
constexpr double kNoiseStd = 10.0;           // pixel noise, in 0..255 units

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Whether local pixel (u = row, v = column) of an s x s box belongs to the class's shape.
bool in_shape(int label, int u, int v, int s) {
  const double cu = u + 0.5 - s / 2.0, cv = v + 0.5 - s / 2.0;  // from the box centre
  const double r = std::sqrt(cu * cu + cv * cv), outer = s / 2.0;
  switch (label) {
    case 0:
      return true;
    case 1:
      return u < 2 || v < 2 || u >= s - 2 || v >= s - 2;
    case 2:
      return r <= outer;
    case 3:
      return r <= outer && r >= outer - 2.2;
    case 4:
      return std::abs(cu) <= 1.5 || std::abs(cv) <= 1.5;
    case 5:
      return std::abs(u - v) <= 1 || std::abs(u + v - (s - 1)) <= 1;
    case 6:
      return (u / 2) % 2 == 0;
    case 7:
      return (v / 2) % 2 == 0;
    case 8:
      return std::abs(cv) <= (u + 1) / 2.0;  // apex at the top
    default:
      return (u / 3 + v / 3) % 2 == 0;
  }
}

// Colours are drawn so that the set of images is symmetric under v -> 255 - v (swapping light
// and dark): every class then has the same flat mean image, which a linear model cannot use.
void draw_image(int label, Rng& rng, uint8_t* planes) {
  const int s = kMinSize + static_cast<int>(rng.below(kMaxSize - kMinSize + 1));
  const int y0 = static_cast<int>(rng.below(kCifarSide - s + 1));
  const int x0 = static_cast<int>(rng.below(kCifarSide - s + 1));
  int bg[3], fg[3];
  int contrast;
  do {
    contrast = 0;
    for (int c = 0; c < 3; ++c) {
      bg[c] = static_cast<int>(rng.below(256));
      fg[c] = static_cast<int>(rng.below(256));
      contrast += std::abs(fg[c] - bg[c]);
    }
  } while (contrast < kMinContrast);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kCifarSide; ++y)
      for (int x = 0; x < kCifarSide; ++x) {
        const bool inside =
            y >= y0 && y < y0 + s && x >= x0 && x < x0 + s && in_shape(label, y - y0, x - x0, s);
        const double value = (inside ? fg[c] : bg[c]) + kNoiseStd * rng.normal();
        planes[(c * kCifarSide + y) * kCifarSide + x] =
            static_cast<uint8_t>(std::clamp(std::nearbyint(value), 0.0, 255.0));
      }
}

}  // namespace

CifarRecords generate_shapes_records(int64_t count, uint64_t seed, int split) {
  CHIMERA_CHECK(count >= 0, "image count must be >= 0, got ", count);
  CifarRecords records;
  records.labels.resize(static_cast<size_t>(count));
  records.pixels.resize(static_cast<size_t>(count * kCifarImageBytes));
  const uint64_t split_seed = mix64(seed ^ mix64(static_cast<uint64_t>(split) + 1));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    Rng rng(mix64(split_seed + static_cast<uint64_t>(i)));
    const int label = static_cast<int>(i % kCifarClasses);
    records.labels[i] = static_cast<uint8_t>(label);
    draw_image(label, rng, records.pixels.data() + i * kCifarImageBytes);
  }
  return records;
}

void write_synthetic_cifar(const std::string& dir, int64_t train_count, int64_t test_count,
                           uint64_t seed) {
  constexpr int64_t kFiles = std::size(kCifarTrainFiles);
  CHIMERA_CHECK(train_count >= kFiles, "--train must be at least ", kFiles,
                " (the train set is split over data_batch_1..5.bin), got ", train_count);
  CHIMERA_CHECK(test_count >= 1, "--test must be at least 1, got ", test_count);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  CHIMERA_CHECK(!error, "cannot create '", dir, "': ", error.message());
  const std::filesystem::path root(dir);
  const CifarRecords train = generate_shapes_records(train_count, seed, 0);
  for (int64_t f = 0; f < kFiles; ++f)
    write_cifar_binary((root / kCifarTrainFiles[f]).string(), train, f * train_count / kFiles,
                       (f + 1) * train_count / kFiles);
  const CifarRecords test = generate_shapes_records(test_count, seed, 1);
  write_cifar_binary((root / kCifarTestFile).string(), test, 0, test_count);
  std::string names;
  for (const char* name : kShapeClassNames) names += std::string(name) + "\n";
  write_file_atomic((root / "batches.meta.txt").string(), names);
}

}  // namespace chimera
