// Little-endian integers in byte strings, for the project's binary file formats.
#pragma once

#include <cstdint>
#include <string>

namespace chimera {

inline void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(value >> (8 * i) & 0xFF));
}

inline uint64_t get_le(const std::string& in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= uint64_t{static_cast<uint8_t>(in[offset + i])} << (8 * i);
  return value;
}

}  // namespace chimera
