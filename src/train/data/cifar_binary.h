// The CIFAR-10 binary format: each record is one label byte, then 3072 pixel bytes holding the
// R, G and B planes of a 32x32 image, each plane row-major. A file is records back to back
// (10000 in the real data_batch_*.bin and test_batch.bin; any whole number is accepted).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "train/data/dataset.h"

namespace chimera {

inline constexpr int64_t kCifarSide = 32;
inline constexpr int64_t kCifarChannels = 3;
inline constexpr int64_t kCifarImageBytes = kCifarChannels * kCifarSide * kCifarSide;  // 3072
inline constexpr int64_t kCifarRecordBytes = 1 + kCifarImageBytes;                     // 3073
inline constexpr int kCifarClasses = 10;
// SPEC §5: per-channel mean and std applied after scaling pixels to [0, 1].
inline constexpr std::array<float, 3> kCifarMean = {0.4914f, 0.4822f, 0.4465f};
inline constexpr std::array<float, 3> kCifarStd = {0.2470f, 0.2435f, 0.2616f};

// Records as stored: labels[i], and image i in pixels[i * 3072, (i + 1) * 3072).
struct CifarRecords {
  std::vector<uint8_t> labels;
  std::vector<uint8_t> pixels;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  void append(const CifarRecords& other);
};

// Reads one file. Errors name the file, and the record index for a label above 9.
CifarRecords read_cifar_binary(const std::string& path);
// The same for bytes already in memory; `path` names them in errors.
CifarRecords parse_cifar_binary(const std::string& bytes, const std::string& path);
// Writes records [begin, end) to `path` (atomically: a temporary name, then rename).
void write_cifar_binary(const std::string& path, const CifarRecords& records, int64_t begin,
                        int64_t end);

// Scales to [0, 1] and normalises with kCifarMean / kCifarStd in float32, operation by
// operation as torchvision's ToTensor + Normalize do, so the values match it bit for bit.
float normalize_cifar_pixel(uint8_t pixel, int channel);
Dataset normalize_cifar(const CifarRecords& records);

}  // namespace chimera
