#include "train/data/cifar_binary.h"

#include <cstring>

#include "engine/io/atomic_file.h"

namespace chimera {

void CifarRecords::append(const CifarRecords& other) {
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
  pixels.insert(pixels.end(), other.pixels.begin(), other.pixels.end());
}

CifarRecords read_cifar_binary(const std::string& path) {
  return parse_cifar_binary(read_file(path), path);
}

CifarRecords parse_cifar_binary(const std::string& bytes, const std::string& path) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  CHIMERA_CHECK(size > 0 && size % kCifarRecordBytes == 0, "'", path, "' has ", size,
                " bytes, not a whole number of ", kCifarRecordBytes,
                "-byte CIFAR-10 records (a truncated or foreign file? fetch the data again)");
  const int64_t count = size / kCifarRecordBytes;
  CifarRecords records;
  records.labels.resize(static_cast<size_t>(count));
  records.pixels.resize(static_cast<size_t>(count * kCifarImageBytes));
  for (int64_t i = 0; i < count; ++i) {
    const char* record = bytes.data() + i * kCifarRecordBytes;
    const uint8_t label = static_cast<uint8_t>(record[0]);
    CHIMERA_CHECK(label < kCifarClasses, "'", path, "' record ", i, " has label ", int(label),
                  "; CIFAR-10 labels are 0..9 (a CIFAR-100 or corrupt file?)");
    records.labels[i] = label;
    std::memcpy(records.pixels.data() + i * kCifarImageBytes, record + 1, kCifarImageBytes);
  }
  return records;
}

void write_cifar_binary(const std::string& path, const CifarRecords& records, int64_t begin,
                        int64_t end) {
  CHIMERA_CHECK(records.pixels.size() == records.labels.size() * kCifarImageBytes,
                "CIFAR-10 records need ", kCifarImageBytes, " pixel bytes per label, got ",
                records.pixels.size(), " bytes for ", records.labels.size(), " labels");
  CHIMERA_CHECK(0 <= begin && begin <= end && end <= records.size(), "record range [", begin, ", ",
                end, ") is outside the ", records.size(), " records");
  std::string bytes(static_cast<size_t>((end - begin) * kCifarRecordBytes), '\0');
  for (int64_t i = begin; i < end; ++i) {
    CHIMERA_CHECK(records.labels[i] < kCifarClasses, "record ", i, " has label ",
                  int(records.labels[i]), "; CIFAR-10 labels are 0..9");
    char* record = bytes.data() + (i - begin) * kCifarRecordBytes;
    record[0] = static_cast<char>(records.labels[i]);
    std::memcpy(record + 1, records.pixels.data() + i * kCifarImageBytes, kCifarImageBytes);
  }
  write_file_atomic(path, bytes);
}

float normalize_cifar_pixel(uint8_t pixel, int channel) {
  // Two float32 roundings, as torch: x / 255, then (x - mean) / std.
  const float scaled = static_cast<float>(pixel) / 255.0f;
  return (scaled - kCifarMean[channel]) / kCifarStd[channel];
}

Dataset normalize_cifar(const CifarRecords& records) {
  float table[kCifarChannels][256];
  for (int c = 0; c < kCifarChannels; ++c)
    for (int p = 0; p < 256; ++p) table[c][p] = normalize_cifar_pixel(static_cast<uint8_t>(p), c);

  const int64_t n = records.size();
  Dataset data;
  data.images = Tensor({n, kCifarChannels, kCifarSide, kCifarSide});
  data.labels = Tensor({n}, DType::i64);
  float* out = data.images.f32();
  int64_t* labels = data.labels.data<int64_t>();
  const int64_t plane = kCifarSide * kCifarSide;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = records.labels[i];
    for (int64_t c = 0; c < kCifarChannels; ++c) {
      const uint8_t* src = records.pixels.data() + i * kCifarImageBytes + c * plane;
      float* dst = out + i * kCifarImageBytes + c * plane;
      for (int64_t k = 0; k < plane; ++k) dst[k] = table[c][src[k]];
    }
  }
  for (int c = 0; c < kCifarChannels; ++c) data.padding_value[c] = table[c][0];
  return data;
}

}  // namespace chimera
