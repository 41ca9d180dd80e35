// Console values as the reference's Python prints them, so our lines match its lines: "{x}" of a
// float is repr (shortest round-trip digits, exponent form below 1e-4 and from 1e16 on), None
// for a missing value, and "{x:.6f}" is fixed-point with six decimals.
#pragma once

#include <string>

#include "harness/log/jsonl.h"

namespace chimera {

std::string py_repr(double value);  // 0.001 -> "0.001", 1e-05 -> "1e-05", 2.0 -> "2.0"
// Strings as they are, null as None, booleans as True/False, integers in decimal, floats by
// py_repr.
std::string py_str(const Json& value);
std::string py_fixed6(double value);  // "{x:.6f}"

}  // namespace chimera
