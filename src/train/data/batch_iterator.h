// Mini-batches over a Dataset for one epoch: optional shuffling and augmentation (random crop
// with 4-pixel zero padding, then horizontal flip, as torchvision's RandomCrop(32, padding=4) +
// RandomHorizontalFlip), an optional cap on the number of batches, and a one-batch-ahead
// prefetch on a background thread. Batches depend only on (data, options, epoch): prefetching
// or not gives identical tensors.
#pragma once

#include <cstdint>
#include <future>
#include <optional>
#include <vector>

#include "train/data/dataset.h"

namespace chimera {

struct BatchOptions {
  int64_t batch_size = 128;
  bool shuffle = false;
  bool augment = false;
  uint64_t seed = 0;        // order and augmentation come from (seed, epoch)
  int64_t max_batches = 0;  // 0 = the whole set; the last batch may be smaller
  bool prefetch = true;     // prepare batch k+1 on a background thread while k computes
};

struct Batch {
  Tensor images;  // f32 [n, 3, H, W]
  Tensor labels;  // i64 [n]
};

// ceil(dataset_size / batch_size), capped by max_batches when it is set.
int64_t count_batches(int64_t dataset_size, const BatchOptions& options);

class BatchIterator {
 public:
  // `data` must outlive the iterator. Epochs are numbered as the caller likes; each number gives
  // its own order and augmentation draws.
  BatchIterator(const Dataset& data, const BatchOptions& options, int64_t epoch);
  ~BatchIterator();
  BatchIterator(const BatchIterator&) = delete;
  BatchIterator& operator=(const BatchIterator&) = delete;

  std::optional<Batch> next();  // nullopt after the last batch
  int64_t num_batches() const { return num_batches_; }

 private:
  struct Crop {
    uint8_t dy, dx, flip;  // offsets into the padded image, and whether to mirror
  };
  Batch make_batch(int64_t index) const;
  void launch(int64_t index);

  const Dataset& data_;
  BatchOptions options_;
  std::vector<int64_t> order_;
  std::vector<Crop> crops_;  // one per position in order_, when augmenting
  int64_t num_batches_ = 0;
  int64_t next_index_ = 0;
  std::future<Batch> pending_;  // last member: destroyed (waited for) first
};

}  // namespace chimera
