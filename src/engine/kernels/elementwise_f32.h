// Plain float loops shared by autograd and ops: single-threaded, over n contiguous elements
// (callers split large tensors over threads). Each has a scalar reference and, dispatched at
// run time, AVX-512 versions (elementwise_f32_avx512vnni.cpp; the baseline build has neither
// wide vectors nor FMA, and these passes over layer-sized tensors are a large part of a
// ResNet step). Every path gives the same bits.
#pragma once

#include <cstdint>

namespace chimera {

void axpy_f32(int64_t n, float a, const float* x, float* y);  // y += a * x
// y = a + b (y may be a or b)
void add_f32(int64_t n, const float* a, const float* b, float* y);
// y = x where x > 0, else 0 (NaN gives 0)
void relu_f32(int64_t n, const float* x, float* y);
// dx = g where y > 0, else 0: ReLU's backward from its output
void relu_backward_f32(int64_t n, const float* y, const float* g, float* dx);
// y = fma(x, a, b): x * a + b with one rounding
void fma_f32(int64_t n, const float* x, float a, float b, float* y);
// y = x converted exactly
void i8_to_f32(int64_t n, const int8_t* x, float* y);

// The per-ISA loops behind them.
void add_f32__scalar(int64_t n, const float* a, const float* b, float* y);
void relu_f32__scalar(int64_t n, const float* x, float* y);
void relu_backward_f32__scalar(int64_t n, const float* y, const float* g, float* dx);
void fma_f32__scalar(int64_t n, const float* x, float a, float b, float* y);
void i8_to_f32__scalar(int64_t n, const int8_t* x, float* y);
void add_f32__avx512vnni(int64_t n, const float* a, const float* b, float* y);
void relu_f32__avx512vnni(int64_t n, const float* x, float* y);
void relu_backward_f32__avx512vnni(int64_t n, const float* y, const float* g, float* dx);
void fma_f32__avx2(int64_t n, const float* x, float a, float b, float* y);
void add_f32__avx2(int64_t n, const float* a, const float* b, float* y);
void relu_f32__avx2(int64_t n, const float* x, float* y);
void relu_backward_f32__avx2(int64_t n, const float* y, const float* g, float* dx);
void i8_to_f32__avx2(int64_t n, const int8_t* x, float* y);
void fma_f32__avx512vnni(int64_t n, const float* x, float a, float b, float* y);
void i8_to_f32__avx512vnni(int64_t n, const int8_t* x, float* y);

}  // namespace chimera
