#include "train/optim/torch_numerics.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace chimera {

float torch_expf(float x) {
  if (std::isnan(x)) return x;
  if (x > 100.0f) return std::numeric_limits<float>::infinity();
  if (x < -104.0f) return 0.0f;
  // x = q ln2 + s with ln2 split in two parts, then a degree-7 polynomial for exp(s).
  const auto q = static_cast<int>(std::nearbyint(x * 1.442695040888963407359924681001892137f));
  float s = std::fma(static_cast<float>(q), -0.693145751953125f, x);
  s = std::fma(static_cast<float>(q), -1.428606765330187045e-06f, s);
  float u = 0.000198527617612853646278381f;
  u = std::fma(u, s, 0.00139304355252534151077271f);
  u = std::fma(u, s, 0.00833336077630519866943359f);
  u = std::fma(u, s, 0.0416664853692054748535156f);
  u = std::fma(u, s, 0.166666671633720397949219f);
  u = std::fma(u, s, 0.5f);
  u = 1.0f + std::fma(s * s, u, s);
  // Scaled by 2^q in two halves, as Sleef does, so that 2^q itself never overflows.
  return std::ldexp(std::ldexp(u, q >> 1), q - (q >> 1));
}

namespace {

constexpr int kLanes = 8;
struct Lanes {
  std::array<float, kLanes> v{};
};

float add(float a, float b) {
  return a + b;
}
Lanes add(Lanes a, const Lanes& b) {
  for (int k = 0; k < kLanes; ++k) a.v[k] += b.v[k];
  return a;
}

int64_t ceil_log2(int64_t x) {
  return x <= 2 ? 1 : 64 - std::countl_zero(static_cast<uint64_t>(x - 1));
}

// `Rows` interleaved accumulators over `size` steps (load(i, k): addend k of step i). Every
// 2^level_power steps the partial sums move up a level, which bounds the rounding error growth.
template <class V, int Rows, class Load>
std::array<V, Rows> multi_row_sum(int64_t size, Load load) {
  constexpr int kLevels = 4;
  const int64_t level_power = std::max<int64_t>(4, ceil_log2(size) / kLevels);
  const int64_t level_step = int64_t{1} << level_power;
  const int64_t level_mask = level_step - 1;
  std::array<std::array<V, Rows>, kLevels> acc{};
  int64_t i = 0;
  while (i + level_step <= size) {
    for (int64_t j = 0; j < level_step; ++j, ++i)
      for (int k = 0; k < Rows; ++k) acc[0][k] = add(acc[0][k], load(i, k));
    for (int j = 1; j < kLevels; ++j) {
      for (int k = 0; k < Rows; ++k) {
        acc[j][k] = add(acc[j][k], acc[j - 1][k]);
        acc[j - 1][k] = V{};
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < size; ++i)
    for (int k = 0; k < Rows; ++k) acc[0][k] = add(acc[0][k], load(i, k));
  for (int j = 1; j < kLevels; ++j)
    for (int k = 0; k < Rows; ++k) acc[0][k] = add(acc[0][k], acc[j][k]);
  return acc[0];
}

// Sum of `size` addends (load(i)) through four interleaved accumulators.
template <class V, class Load>
V row_sum(int64_t size, Load load) {
  constexpr int kIlp = 4;
  const int64_t steps = size / kIlp;
  std::array<V, kIlp> partial =
      multi_row_sum<V, kIlp>(steps, [&](int64_t i, int k) { return load(i * kIlp + k); });
  for (int64_t i = steps * kIlp; i < size; ++i) partial[0] = add(partial[0], load(i));
  for (int k = 1; k < kIlp; ++k) partial[0] = add(partial[0], partial[k]);
  return partial[0];
}

}  // namespace

float torch_sum_f32(const float* x, int64_t n) {
  if (n < kLanes) return row_sum<float>(n, [&](int64_t i) { return x[i]; });
  const int64_t vectors = n / kLanes;
  const Lanes lanes = row_sum<Lanes>(vectors, [&](int64_t i) {
    Lanes l;
    std::memcpy(l.v.data(), x + i * kLanes, sizeof(l.v));
    return l;
  });
  float total = 0.0f;
  for (int64_t i = vectors * kLanes; i < n; ++i) total += x[i];
  for (float lane : lanes.v) total += lane;
  return total;
}

float torch_norm2_f32(const float* x, int64_t n) {
  std::array<float, kLanes> acc{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] = std::fma(x[i + k], x[i + k], acc[k]);
  float total = acc[0];
  for (int k = 1; k < kLanes; ++k) total += acc[k];
  for (; i < n; ++i) total += x[i] * x[i];
  return std::sqrt(total);
}

}  // namespace chimera
