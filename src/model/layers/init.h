// PyTorch's default initialisation for conv/linear layers, on our Rng:
// kaiming_uniform_(a = sqrt(5)) is uniform in ±1/sqrt(fan_in), and so is the bias.
#pragma once

#include "engine/rng.h"

namespace chimera {

Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, Rng& rng);

// While alive (on this thread), layers are built with parameters of zeros that take no memory
// until written (Tensor::lazy_zeros), and draw nothing: for loaders, which overwrite the
// parameters inference reads and leave the rest (a ternary layer's float master weight, 4
// bytes per weight that a model file does not hold) untouched. Without it, loading a 13 MB
// ternary GGUF drew 44.6 million random weights and held 270 MB.
class DeferredInit {
 public:
  DeferredInit();
  ~DeferredInit();
  DeferredInit(const DeferredInit&) = delete;
  DeferredInit& operator=(const DeferredInit&) = delete;
  static bool active();

 private:
  bool saved_;
};

// A parameter of `shape`: its initial values from `fill` (drawing from the layer's Rng), or lazy
// zeros under DeferredInit.
template <class Fill>
Tensor initial_parameter(const Shape& shape, Fill fill) {
  if (DeferredInit::active()) return Tensor::lazy_zeros(shape);
  Tensor t(shape);
  fill(t);
  return t;
}

}  // namespace chimera
