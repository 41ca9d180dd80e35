#include "golden.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace chimera::test {

std::string golden_dir() {
  const char* env = std::getenv("CHIMERA_GOLDEN_DIR");
  return env && *env ? env : CHIMERA_DEFAULT_GOLDEN_DIR;
}

Safetensors load_golden(const std::string& name) {
  const std::string dir = golden_dir();
  if (!std::filesystem::is_directory(dir))
    throw Error("golden directory '" + dir +
                "' not found: set CHIMERA_GOLDEN_DIR to the reference's golden files");
  return read_safetensors(dir + "/" + name + ".safetensors");
}

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol,
                                     double atol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " vs expected "
                                         << shape_str(expected.shape());
  const Tensor a = actual.to(DType::f64), e = expected.to(DType::f64);
  const double* pa = a.data<double>();
  const double* pe = e.data<double>();
  int64_t bad = 0;
  std::string first;
  double worst = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double diff = std::fabs(pa[i] - pe[i]);
    const bool nan_mismatch = std::isnan(pa[i]) != std::isnan(pe[i]);
    if (nan_mismatch || diff > atol + rtol * std::fabs(pe[i])) {
      if (bad < 5)
        first += "\n  [" + std::to_string(i) + "] got " + std::to_string(pa[i]) + " expected " +
                 std::to_string(pe[i]);
      ++bad;
    }
    if (std::fabs(pe[i]) > 0) worst = std::max(worst, diff / std::fabs(pe[i]));
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.numel() << " elements differ (rtol "
                                       << rtol << ", atol " << atol << ", worst relative "
                                       << worst << "):" << first;
}

::testing::AssertionResult all_equal(const Tensor& actual, const Tensor& expected) {
  return all_close(actual, expected, 0.0, 0.0);
}

}  // namespace chimera::test
