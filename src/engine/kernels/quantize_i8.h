// Per-tensor int8 activation quantization (SPEC §2): the absolute maximum of a float tensor and
// q = clamp(round(x / beta), -127, 127). The division stays a true float division and rounding
// is half to even, so every ISA path gives the same codes as the scalar reference.
#pragma once

#include <cstdint>

#include "engine/kernels/isa.h"

namespace chimera {

// max |x[i]| over i < n with NaNs skipped (as a chain of std::fmax from 0); 0 when n == 0.
float abs_max_f32(int64_t n, const float* x);
// q[i] = clamp(nearbyint(x[i] / beta), -127, 127), with NaN giving -127 (as
// fmin(fmax(NaN, -127), 127)). Multithreaded over blocks; results never depend on the threads.
void quantize_i8(int64_t n, const float* x, float beta, int8_t* q);

// The same with an explicit ISA (for tests); throws if this CPU lacks it.
float abs_max_f32_isa(Isa isa, int64_t n, const float* x);
void quantize_i8_isa(Isa isa, int64_t n, const float* x, float beta, int8_t* q);

// Single-threaded per-ISA loops behind them, one file per ISA.
float abs_max_f32__scalar(int64_t n, const float* x);
float abs_max_f32__avx2(int64_t n, const float* x);
float abs_max_f32__avx512vnni(int64_t n, const float* x);
void quantize_i8__scalar(int64_t n, const float* x, float beta, int8_t* q);
void quantize_i8__avx2(int64_t n, const float* x, float beta, int8_t* q);
void quantize_i8__avx512vnni(int64_t n, const float* x, float beta, int8_t* q);

}  // namespace chimera
