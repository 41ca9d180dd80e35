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
// y = exp(x) (y may be x), within 2 ulp of the exact value for normal results: Cephes' expf
// (x = n ln 2 + r, |r| <= ln 2 / 2, a degree-7 polynomial in r, times 2^n) with FMAs, the same
// operations in every path. x < ln(FLT_MIN) gives +0 (no subnormal results), x > ln(FLT_MAX)
// +inf, NaN stays NaN. The softmax and SiLU of the transformer call it: libm's scalar expf
// was a tenth of a 512-token prompt.
void exp_f32(int64_t n, const float* x, float* y);

// Softmax of x[0, n) in place (n >= 1), zeros in x[n, width): m = max, e = exp_f32(x - m), sum
// of e in double, x = e * float(1 / sum). The max and the sum run in 32 lanes (see
// softmax_f32__scalar for which element goes where), so that SIMD paths keep four independent
// chains of 8 and give the same bits. The attention's rows.
void softmax_f32(int64_t n, int64_t width, float* x);

// exp_f32's constants, one definition for every path.
namespace exp_f32_constants {
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // ln 2 = hi + lo, hi exact
constexpr float kExpHi = 88.72283935546875f;                       // ln(FLT_MAX)
constexpr float kExpLo = -87.33654475f;                            // ln(FLT_MIN)
constexpr float kExpP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                            4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
}  // namespace exp_f32_constants

// The per-ISA loops behind them.
void add_f32__scalar(int64_t n, const float* a, const float* b, float* y);
void relu_f32__scalar(int64_t n, const float* x, float* y);
void relu_backward_f32__scalar(int64_t n, const float* y, const float* g, float* dx);
void fma_f32__scalar(int64_t n, const float* x, float a, float b, float* y);
void i8_to_f32__scalar(int64_t n, const int8_t* x, float* y);
void exp_f32__scalar(int64_t n, const float* x, float* y);
void softmax_f32__scalar(int64_t n, int64_t width, float* x);
// (AVX-512 machines run this one too.)
void softmax_f32__avx2(int64_t n, int64_t width, float* x);
void exp_f32__avx2(int64_t n, const float* x, float* y);
void exp_f32__avx512vnni(int64_t n, const float* x, float* y);
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
