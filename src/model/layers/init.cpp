#include "model/layers/init.h"

#include <cmath>

namespace chimera {

namespace {
thread_local bool g_deferred = false;
}  // namespace

DeferredInit::DeferredInit() : saved_(g_deferred) { g_deferred = true; }
DeferredInit::~DeferredInit() { g_deferred = saved_; }
bool DeferredInit::active() { return g_deferred; }

Tensor fan_in_uniform(const Shape& shape, int64_t fan_in, Rng& rng) {
  CHIMERA_CHECK(fan_in > 0, "fan_in must be positive, got ", fan_in);
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return initial_parameter(shape, [&](Tensor& t) { rng.fill_uniform(t, -bound, bound); });
}

}  // namespace chimera
