// IEEE 754 binary16 ("half", ggml_half) to and from float: the scale of GGUF's ternary blocks.
#pragma once

#include <cstdint>

namespace chimera {

uint16_t float_to_half(float f);  // round to nearest, ties to even; overflow to infinity
float half_to_float(uint16_t h);  // exact

}  // namespace chimera
