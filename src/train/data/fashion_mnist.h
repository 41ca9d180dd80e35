// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from its four IDX files, as Debian's
// dataset-fashion-mnist package installs them (gzip-compressed, in kFashionMnistDir).
//
// ResNet-20 input: one channel, the 28x28 images padded (not resized) to 32x32 with a 2-pixel
// black border, so every pixel is an original one and the network is CIFAR's ResNet-20 with a
// 1->16 stem. Normalisation: pixels scaled to [0, 1], then (x - mean) / std with the mean and
// std of the 60,000 training images (computed in double, used as float32), the same two float
// roundings as torchvision's ToTensor + Normalize. The border is a normalised black pixel, the
// value augmentation pads with too.
#pragma once

#include <string>

#include "train/data/dataset.h"
#include "train/data/idx_file.h"

namespace chimera {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistSide = 28;
inline constexpr int64_t kFashionMnistPadded = 32;
inline constexpr int kFashionMnistClasses = 10;

// One split's images [N, 28, 28] and labels [N], checked against each other: counts equal,
// labels 0..9. Errors name the files.
struct FashionMnistSplit {
  IdxArray images, labels;
};
FashionMnistSplit read_fashion_mnist_split(const std::string& images_path,
                                           const std::string& labels_path);

// Mean and std of the pixels scaled to [0, 1], over every image of `split`.
struct PixelStats {
  float mean, std;
};
PixelStats pixel_stats(const FashionMnistSplit& split);

// [N, 1, 32, 32] normalised with `stats`, padded as described above.
Dataset normalize_fashion_mnist(const FashionMnistSplit& split, PixelStats stats);

// Loads train (train-images-idx3-ubyte, train-labels-idx1-ubyte) and test (t10k-...) from
// `root` (each file with or without .gz). Missing files: an error naming what was looked for
// and how to get it (apt-get install dataset-fashion-mnist).
CifarData load_fashion_mnist(const std::string& root = kFashionMnistDir);

}  // namespace chimera
