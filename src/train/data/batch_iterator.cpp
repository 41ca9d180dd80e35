#include "train/data/batch_iterator.h"

#include <algorithm>
#include <cstring>

#include "engine/rng.h"

namespace chimera {

namespace {

constexpr int64_t kPad = 4;

// Distinct, well-spread Rng seeds per (seed, epoch); the Rng's splitmix seeding mixes further.
uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
  return seed + 0xD1B54A32D192ED03ULL * (static_cast<uint64_t>(epoch) + 1);
}

}  // namespace

int64_t count_batches(int64_t dataset_size, const BatchOptions& options) {
  const int64_t all = (dataset_size + options.batch_size - 1) / options.batch_size;
  return options.max_batches > 0 ? std::min(all, options.max_batches) : all;
}

BatchIterator::BatchIterator(const Dataset& data, const BatchOptions& options, int64_t epoch)
    : data_(data), options_(options) {
  CHIMERA_CHECK(options.batch_size > 0, "batch size must be positive, got ", options.batch_size);
  CHIMERA_CHECK(options.max_batches >= 0, "max batches must be >= 0 (0 = all), got ",
                options.max_batches);
  CHIMERA_CHECK(data.images.dim() == 4 && data.images.size(1) >= 1 &&
                    data.images.size(1) <= static_cast<int64_t>(data.padding_value.size()) &&
                    data.images.dtype() == DType::f32 && data.labels.dim() == 1 &&
                    data.labels.dtype() == DType::i64 && data.images.size(0) == data.labels.size(0),
                "a dataset needs f32 images [N, C, H, W] (C = 1 to 3) and i64 labels [N], got images ",
                shape_str(data.images.shape()), " and labels ", shape_str(data.labels.shape()));
  const int64_t n = data.size();
  num_batches_ = count_batches(n, options);
  order_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order_[i] = i;
  Rng rng(epoch_seed(options.seed, epoch));
  if (options.shuffle) order_ = rng.permutation(n);
  if (options.augment) {
    crops_.resize(static_cast<size_t>(n));
    for (Crop& crop : crops_) {
      crop.dy = static_cast<uint8_t>(rng.below(2 * kPad + 1));
      crop.dx = static_cast<uint8_t>(rng.below(2 * kPad + 1));
      crop.flip = static_cast<uint8_t>(rng.below(2));
    }
  }
  if (options.prefetch && num_batches_ > 0) launch(0);
}

BatchIterator::~BatchIterator() {
  if (pending_.valid()) pending_.wait();
}

void BatchIterator::launch(int64_t index) {
  pending_ = std::async(std::launch::async, [this, index] { return make_batch(index); });
}

std::optional<Batch> BatchIterator::next() {
  if (next_index_ >= num_batches_) return std::nullopt;
  const int64_t index = next_index_++;
  if (!options_.prefetch) return make_batch(index);
  if (!pending_.valid()) launch(index);  // the previous batch threw: nothing is in flight
  Batch batch = pending_.get();
  if (next_index_ < num_batches_) launch(next_index_);
  return batch;
}

// Runs on the prefetch thread: reads only data_, order_ and crops_, which stay fixed.
Batch BatchIterator::make_batch(int64_t index) const {
  const int64_t begin = index * options_.batch_size;
  const int64_t count = std::min(options_.batch_size, data_.size() - begin);
  const int64_t channels = data_.images.size(1), h = data_.images.size(2), w = data_.images.size(3),
                image = channels * h * w;
  Batch batch{Tensor({count, channels, h, w}), Tensor({count}, DType::i64)};
  const float* src_images = data_.images.f32();
  const int64_t* src_labels = data_.labels.data<int64_t>();
  float* out = batch.images.f32();
  int64_t* labels = batch.labels.data<int64_t>();
  for (int64_t j = 0; j < count; ++j) {
    const int64_t position = begin + j;
    const int64_t source = order_[position];
    labels[j] = src_labels[source];
    const float* src = src_images + source * image;
    float* dst = out + j * image;
    if (!options_.augment) {
      std::memcpy(dst, src, sizeof(float) * image);
      continue;
    }
    // out(y, x) = padded(y + dy, x' + dx) with x' = flip ? w-1-x : x, and padded = the image
    // shifted by kPad inside a border of the padding value.
    const Crop crop = crops_[position];
    for (int64_t c = 0; c < channels; ++c) {
      const float fill = data_.padding_value[c];
      for (int64_t y = 0; y < h; ++y) {
        float* row = dst + (c * h + y) * w;
        const int64_t sy = y + crop.dy - kPad;
        if (sy < 0 || sy >= h) {
          std::fill(row, row + w, fill);
          continue;
        }
        const float* src_row = src + (c * h + sy) * w;
        for (int64_t x = 0; x < w; ++x) {
          const int64_t sx = (crop.flip ? w - 1 - x : x) + crop.dx - kPad;
          row[x] = sx >= 0 && sx < w ? src_row[sx] : fill;
        }
      }
    }
  }
  return batch;
}

}  // namespace chimera
