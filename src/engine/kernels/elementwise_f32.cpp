#include "engine/kernels/elementwise_f32.h"

#include <bit>
#include <cmath>

#include "engine/kernels/isa.h"

namespace chimera {
namespace {

struct ElementwiseKernels {
  void (*add)(int64_t, const float*, const float*, float*);
  void (*relu)(int64_t, const float*, float*);
  void (*relu_backward)(int64_t, const float*, const float*, float*);
  void (*fma)(int64_t, const float*, float, float, float*);
  void (*i8_to_f32)(int64_t, const int8_t*, float*);
  void (*exp)(int64_t, const float*, float*);
  void (*softmax)(int64_t, int64_t, float*);
};

// Every AVX2 CPU has FMA in practice, but the FMA path checks for it anyway.
const ElementwiseKernels& kernels() {
  static const ElementwiseKernels k = [] {
    switch (active_isa()) {
      case Isa::avx512vnni:
        return ElementwiseKernels{add_f32__avx512vnni, relu_f32__avx512vnni,
                                  relu_backward_f32__avx512vnni, fma_f32__avx512vnni,
                                  i8_to_f32__avx512vnni, exp_f32__avx512vnni,
                                  softmax_f32__avx2};
      case Isa::avx2:
        return ElementwiseKernels{add_f32__avx2, relu_f32__avx2, relu_backward_f32__avx2,
                                  __builtin_cpu_supports("fma") ? fma_f32__avx2 : fma_f32__scalar,
                                  i8_to_f32__avx2,
                                  __builtin_cpu_supports("fma") ? exp_f32__avx2 : exp_f32__scalar,
                                  __builtin_cpu_supports("fma") ? softmax_f32__avx2
                                                                : softmax_f32__scalar};
      case Isa::scalar:
        break;
    }
    return ElementwiseKernels{add_f32__scalar, relu_f32__scalar, relu_backward_f32__scalar,
                              fma_f32__scalar, i8_to_f32__scalar, exp_f32__scalar,
                              softmax_f32__scalar};
  }();
  return k;
}

}  // namespace

void axpy_f32(int64_t n, float a, const float* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void add_f32__scalar(int64_t n, const float* a, const float* b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void relu_f32__scalar(int64_t n, const float* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward_f32__scalar(int64_t n, const float* __restrict y, const float* __restrict g,
                               float* __restrict dx) {
  // g is read unconditionally, so the compiler can turn the choice into a vector blend.
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    dx[i] = y[i] > 0.0f ? gi : 0.0f;
  }
}

void fma_f32__scalar(int64_t n, const float* x, float a, float b, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::fma(x[i], a, b);
}

void i8_to_f32__scalar(int64_t n, const int8_t* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i]);
}

void exp_f32__scalar(int64_t n, const float* x, float* y) {
  using namespace exp_f32_constants;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (std::isnan(v)) {
      y[i] = v;
    } else if (v > kExpHi) {
      y[i] = INFINITY;
    } else if (v < kExpLo) {
      y[i] = 0.0f;
    } else {
      const float k = std::nearbyint(v * kLog2e);
      float r = std::fma(k, -kLn2Hi, v);
      r = std::fma(k, -kLn2Lo, r);
      float p = kExpP[0];
      for (int j = 1; j < 6; ++j) p = std::fma(p, r, kExpP[j]);
      const float e = std::fma(p, r * r, r) + 1.0f;
      // 2^k in two halves: k reaches -126 and 128, and each half is a normal float.
      const int k1 = static_cast<int>(k) / 2, k2 = static_cast<int>(k) - k1;
      y[i] = e * std::bit_cast<float>((k1 + 127) << 23) * std::bit_cast<float>((k2 + 127) << 23);
    }
  }
}

void softmax_f32__scalar(int64_t n, int64_t width, float* x) {
  constexpr int64_t kLanes = 32, kShortLanes = 8;
  // Lane l takes x[j + l] for j = 0, 32, ...; then groups of 8 go to lanes 0-7 and single
  // elements to lane 0; the lanes are combined as a tree, lane l with lane l + 16, then l + 8,
  // l + 4, l + 2, l + 1: five steps deep rather than a chain of 31, which was most of a
  // 64-element row (a decoding step's attention).
  auto fold = [&](auto* lane, auto op) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
      for (int64_t l = 0; l < kLanes; ++l) lane[l] = op(lane[l], x[j + l]);
    for (; j + kShortLanes <= n; j += kShortLanes)
      for (int64_t l = 0; l < kShortLanes; ++l) lane[l] = op(lane[l], x[j + l]);
    for (; j < n; ++j) lane[0] = op(lane[0], x[j]);
    for (int64_t w = kLanes / 2; w >= 1; w /= 2)
      for (int64_t l = 0; l < w; ++l) lane[l] = op(lane[l], lane[l + w]);
    return lane[0];
  };
  float m[kLanes];
  for (float& v : m) v = x[0];
  const float max = fold(m, [](float a, float b) { return a > b ? a : b; });
  for (int64_t j = 0; j < n; ++j) x[j] -= max;
  exp_f32__scalar(n, x, x);
  double s[kLanes] = {};
  // `auto`: the elements are floats, the lanes combined at the end doubles, kept whole (a float
  // parameter rounded each lane before adding it, unlike the SIMD path).
  const double sum = fold(s, [](double a, auto b) { return a + static_cast<double>(b); });
  const auto inv = static_cast<float>(1.0 / sum);
  for (int64_t j = 0; j < n; ++j) x[j] *= inv;
  for (int64_t j = n; j < width; ++j) x[j] = 0.0f;
}

void add_f32(int64_t n, const float* a, const float* b, float* y) {
  kernels().add(n, a, b, y);
}
void relu_f32(int64_t n, const float* x, float* y) {
  kernels().relu(n, x, y);
}
void relu_backward_f32(int64_t n, const float* y, const float* g, float* dx) {
  kernels().relu_backward(n, y, g, dx);
}
void fma_f32(int64_t n, const float* x, float a, float b, float* y) {
  kernels().fma(n, x, a, b, y);
}
void softmax_f32(int64_t n, int64_t width, float* x) { kernels().softmax(n, width, x); }
void i8_to_f32(int64_t n, const int8_t* x, float* y) {
  kernels().i8_to_f32(n, x, y);
}
void exp_f32(int64_t n, const float* x, float* y) {
  kernels().exp(n, x, y);
}

}  // namespace chimera
