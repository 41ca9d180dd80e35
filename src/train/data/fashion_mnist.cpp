#include "train/data/fashion_mnist.h"

#include <cmath>
#include <filesystem>

#include "engine/error.h"

namespace chimera {
namespace {

// `root/name.gz` if it exists, else `root/name` if it exists, else an error.
std::string find_file(const std::string& root, const std::string& name) {
  namespace fs = std::filesystem;
  for (const std::string& candidate : {root + "/" + name + ".gz", root + "/" + name})
    if (fs::is_regular_file(candidate)) return candidate;
  CHIMERA_FAIL("Fashion-MNIST: neither '", root, "/", name, ".gz' nor '", root, "/", name,
               "' exists; install Debian's copy (apt-get install dataset-fashion-mnist, into ",
               kFashionMnistDir, ") or pass --dataset-root with the four IDX files");
}

}  // namespace

FashionMnistSplit read_fashion_mnist_split(const std::string& images_path,
                                           const std::string& labels_path) {
  FashionMnistSplit s{read_idx(images_path), read_idx(labels_path)};
  CHIMERA_CHECK(s.images.dims.size() == 3 && s.images.dims[1] == kFashionMnistSide &&
                    s.images.dims[2] == kFashionMnistSide,
                "'", images_path, "' holds an array of ", s.images.dims.size(),
                " dimensions, not images [N, 28, 28] (a labels file in its place?)");
  CHIMERA_CHECK(s.labels.dims.size() == 1, "'", labels_path, "' holds an array of ",
                s.labels.dims.size(), " dimensions, not labels [N] (an images file in its place?)");
  CHIMERA_CHECK(s.images.count() == s.labels.count(), "'", images_path, "' has ",
                s.images.count(), " images but '", labels_path, "' has ", s.labels.count(),
                " labels (files from different splits or sets?)");
  CHIMERA_CHECK(s.images.count() > 0, "'", images_path, "' holds no images");
  for (size_t i = 0; i < s.labels.data.size(); ++i)
    CHIMERA_CHECK(s.labels.data[i] < kFashionMnistClasses, "'", labels_path, "' label ", i,
                  " is ", int(s.labels.data[i]), "; Fashion-MNIST labels are 0..9");
  return s;
}

PixelStats pixel_stats(const FashionMnistSplit& split) {
  double sum = 0, sum_sq = 0;
  for (uint8_t p : split.images.data) {
    const double x = p / 255.0;
    sum += x;
    sum_sq += x * x;
  }
  const double n = static_cast<double>(split.images.data.size());
  const double mean = sum / n;
  // Population std, as torch.std(unbiased=False) over all pixels; clamped for a blank set.
  const double var = std::max(sum_sq / n - mean * mean, 0.0);
  return {static_cast<float>(mean), static_cast<float>(std::max(std::sqrt(var), 1e-6))};
}

Dataset normalize_fashion_mnist(const FashionMnistSplit& split, PixelStats stats) {
  float table[256];
  for (int p = 0; p < 256; ++p)  // two float32 roundings, as torch: x / 255, then (x - m) / s
    table[p] = (static_cast<float>(p) / 255.0f - stats.mean) / stats.std;
  const int64_t n = split.images.count(), side = kFashionMnistPadded, border = 2;
  static_assert(kFashionMnistSide + 2 * 2 == kFashionMnistPadded);
  Dataset data;
  data.images = Tensor({n, 1, side, side});
  data.labels = Tensor({n}, DType::i64);
  float* out = data.images.f32();
  int64_t* labels = data.labels.data<int64_t>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = split.labels.data[i];
    const uint8_t* src = split.images.data.data() + i * kFashionMnistSide * kFashionMnistSide;
    float* dst = out + i * side * side;
    for (int64_t y = 0; y < side; ++y)
      for (int64_t x = 0; x < side; ++x) {
        const int64_t sy = y - border, sx = x - border;
        const bool inside = sy >= 0 && sy < kFashionMnistSide && sx >= 0 && sx < kFashionMnistSide;
        dst[y * side + x] = table[inside ? src[sy * kFashionMnistSide + sx] : 0];
      }
  }
  data.padding_value = {table[0], table[0], table[0]};
  return data;
}

CifarData load_fashion_mnist(const std::string& root) {
  const FashionMnistSplit train = read_fashion_mnist_split(
      find_file(root, "train-images-idx3-ubyte"), find_file(root, "train-labels-idx1-ubyte"));
  const FashionMnistSplit test = read_fashion_mnist_split(
      find_file(root, "t10k-images-idx3-ubyte"), find_file(root, "t10k-labels-idx1-ubyte"));
  const PixelStats stats = pixel_stats(train);  // the test set uses the training set's
  return {normalize_fashion_mnist(train, stats), normalize_fashion_mnist(test, stats)};
}

}  // namespace chimera
