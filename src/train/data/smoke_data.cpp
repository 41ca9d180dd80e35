#include "train/data/smoke_data.h"

#include <algorithm>

#include "engine/rng.h"
#include "train/data/cifar_binary.h"

namespace chimera {

static Dataset gaussian_images(int64_t count, Rng& rng) {
  Dataset data;
  data.images = Tensor({count, kCifarChannels, kCifarSide, kCifarSide});
  rng.fill_normal(data.images);
  data.labels = Tensor({count}, DType::i64);
  int64_t* labels = data.labels.data<int64_t>();
  for (int64_t i = 0; i < count; ++i) labels[i] = i % kCifarClasses;
  return data;  // padding_value 0: the images' mean
}

CifarData synthetic_cifar(int64_t batch_size, int64_t max_batches, int64_t eval_batch_size,
                          int64_t eval_max_batches, uint64_t seed) {
  CHIMERA_CHECK(batch_size > 0 && eval_batch_size > 0,
                "synthetic data needs positive batch sizes, got --batch-size ", batch_size,
                " and --eval-batch-size ", eval_batch_size);
  CHIMERA_CHECK(max_batches >= 0 && eval_max_batches >= 0,
                "--max-batches and --eval-max-batches must be >= 0, got ", max_batches, " and ",
                eval_max_batches);
  Rng rng(seed);
  CifarData data;
  data.train = gaussian_images(std::max<int64_t>(max_batches, 1) * batch_size, rng);
  data.test = gaussian_images(std::max<int64_t>(eval_max_batches, 1) * eval_batch_size, rng);
  return data;
}

}  // namespace chimera
