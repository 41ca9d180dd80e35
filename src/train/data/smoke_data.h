// The reference trainer's --synthetic data: standard-normal "images" labelled i mod 10, meant
// for smoke runs (nothing to learn; it only exercises the training loop).
#pragma once

#include <cstdint>

#include "train/data/dataset.h"

namespace chimera {

// As the reference sizes it: max(max_batches, 1) * batch_size training images and
// max(eval_max_batches, 1) * eval_batch_size test images, drawn in that order from one Rng(seed).
// Iterate it without shuffling, as the reference does.
CifarData synthetic_cifar(int64_t batch_size, int64_t max_batches, int64_t eval_batch_size,
                          int64_t eval_max_batches, uint64_t seed);

}  // namespace chimera
