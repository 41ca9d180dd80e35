// Access to the reference's golden files: CHIMERA_GOLDEN_DIR, else the build's default.
// A missing directory or file fails the test; nothing is ever skipped.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "engine/io/safetensors.h"

namespace chimera::test {

std::string golden_dir();
Safetensors load_golden(const std::string& name);  // name without ".safetensors"

// Relative/absolute closeness like numpy.isclose: |a - b| <= atol + rtol * |b|.
// Reports the first mismatches with their flat index.
::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double rtol,
                                     double atol);
::testing::AssertionResult all_equal(const Tensor& actual, const Tensor& expected);

}  // namespace chimera::test
