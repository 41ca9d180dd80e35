// A layer that is float or ternary, decided when the model is built: the fp32 baseline of a
// model family uses the float layer where its ternary modes use the Bit layer.
#pragma once

#include <memory>

#include "model/layers/bit_conv2d.h"
#include "model/layers/bit_linear.h"
#include "model/layers/conv2d.h"
#include "model/layers/linear.h"

namespace chimera {

// Exactly one of the two is set.
template <class Float, class Ternary>
struct FloatOrTernary {
  std::unique_ptr<Float> plain;
  std::unique_ptr<Ternary> ternary;

  Module& module() { return plain ? static_cast<Module&>(*plain) : *ternary; }
  Var forward(const Var& x) { return plain ? plain->forward(x) : ternary->forward(x); }
};
using ConvLayer = FloatOrTernary<Conv2d, BitConv2d>;
using LinearLayer = FloatOrTernary<Linear, BitLinear>;

}  // namespace chimera
