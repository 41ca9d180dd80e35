#include "model/layers/init.h"

#include <cmath>

namespace chimera {

Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, Rng& rng) {
  CHIMERA_CHECK(fan_in > 0, "fan_in must be positive, got ", fan_in);
  Tensor t(shape);
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  rng.fill_uniform(t, -bound, bound);
  return t;
}

}  // namespace chimera
