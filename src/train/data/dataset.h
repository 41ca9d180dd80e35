// An in-memory image classification set, ready for the model: what the CIFAR-10 reader, the
// synthetic smoke data and the batch iterator share.
#pragma once

#include <array>
#include <cstdint>

#include "engine/tensor.h"

namespace chimera {

struct Dataset {
  Tensor images;  // f32 [N, 3, 32, 32], normalised
  Tensor labels;  // i64 [N], 0..9
  // What a black (zero) pixel becomes after normalisation, per channel: the value augmentation
  // pads with, so a padded crop equals torchvision's RandomCrop(padding=4) applied before
  // ToTensor + Normalize.
  std::array<float, 3> padding_value = {0.0f, 0.0f, 0.0f};

  int64_t size() const { return labels.defined() ? labels.numel() : 0; }
};

struct CifarData {
  Dataset train, test;
};

}  // namespace chimera
