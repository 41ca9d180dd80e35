// Plain float loops shared by autograd and ops (the compiler vectorises them).
#pragma once

#include <cstdint>

namespace chimera {

void axpy_f32(int64_t n, float a, const float* x, float* y);  // y += a * x

}  // namespace chimera
