// Scalar reference, dispatch and threading of quantize_i8.h.
#include "engine/kernels/quantize_i8.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <vector>

#include "engine/error.h"
#include "engine/threads.h"

namespace chimera {
namespace {

struct QuantizeKernels {
  float (*abs_max)(int64_t, const float*);
  void (*quantize)(int64_t, const float*, float, int8_t*);
};

// Indexed by Isa.
constexpr QuantizeKernels kKernels[] = {{abs_max_f32__scalar, quantize_i8__scalar},
                                        {abs_max_f32__avx2, quantize_i8__avx2},
                                        {abs_max_f32__avx512vnni, quantize_i8__avx512vnni}};
static_assert(std::size(kKernels) == static_cast<size_t>(Isa::avx512vnni) + 1,
              "one set of kernels per Isa");

constexpr int64_t kBlock = int64_t{1} << 15;  // elements per parallel block

int64_t blocks_of(int64_t n) {
  return (n + kBlock - 1) / kBlock;
}

// The maximum is exact and order-free, so the per-block split changes nothing.
float abs_max_with(const QuantizeKernels& k, int64_t n, const float* x) {
  const int64_t blocks = blocks_of(n);
  if (blocks <= 1) return k.abs_max(n, x);
  std::vector<float> part(static_cast<size_t>(blocks));
  parallel_for(blocks, kBlock, [&](int64_t b) {
    part[b] = k.abs_max(std::min(kBlock, n - b * kBlock), x + b * kBlock);
  });
  return *std::max_element(part.begin(), part.end());
}

void quantize_with(const QuantizeKernels& k, int64_t n, const float* x, float beta, int8_t* q) {
  parallel_for(blocks_of(n), kBlock, [&](int64_t b) {
    k.quantize(std::min(kBlock, n - b * kBlock), x + b * kBlock, beta, q + b * kBlock);
  });
}

const QuantizeKernels& checked(Isa isa) {
  CHIMERA_CHECK(isa_supported(isa), "quantize_i8: this CPU does not support ", isa_name(isa),
                "; the best available here is ", isa_name(best_isa()));
  return kKernels[static_cast<int>(isa)];
}

}  // namespace

float abs_max_f32__scalar(int64_t n, const float* x) {
  float m = 0.0f;
  for (int64_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(x[i]));
  return m;
}

void quantize_i8__scalar(int64_t n, const float* x, float beta, int8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    // nearbyint rounds half to even under the default rounding mode, like torch.round.
    const float r = std::nearbyint(x[i] / beta);
    q[i] = static_cast<int8_t>(std::fmin(std::fmax(r, -127.0f), 127.0f));
  }
}

float abs_max_f32(int64_t n, const float* x) {
  static const QuantizeKernels& k = kKernels[static_cast<int>(active_isa())];
  return abs_max_with(k, n, x);
}

void quantize_i8(int64_t n, const float* x, float beta, int8_t* q) {
  static const QuantizeKernels& k = kKernels[static_cast<int>(active_isa())];
  quantize_with(k, n, x, beta, q);
}

float abs_max_f32_isa(Isa isa, int64_t n, const float* x) {
  return abs_max_with(checked(isa), n, x);
}

void quantize_i8_isa(Isa isa, int64_t n, const float* x, float beta, int8_t* q) {
  quantize_with(checked(isa), n, x, beta, q);
}

}  // namespace chimera
