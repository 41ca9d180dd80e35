// Seeded, platform-independent random numbers (xoshiro256** seeded by splitmix64).
// Sequences depend only on the seed and the order of calls, never on thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor.h"

namespace chimera {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  double uniform();                         // [0, 1) with 53 random bits
  double uniform(double lo, double hi);     // [lo, hi)
  double normal();                          // standard normal (Box-Muller, both values used)
  int64_t below(int64_t n);                 // integer in [0, n), unbiased
  std::vector<int64_t> permutation(int64_t n);  // Fisher-Yates

  void fill_uniform(Tensor& t, double lo, double hi);  // f32 tensors
  void fill_normal(Tensor& t, double mean = 0.0, double std = 1.0);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace chimera
