// SHA-256 through OpenSSL: the checksums of model files and checkpoints.
#pragma once

#include <cstddef>
#include <string>

namespace chimera {

inline constexpr size_t kSha256Bytes = 32;

std::string sha256_raw(const void* data, size_t size);  // the 32-byte digest
std::string sha256_hex(const void* data, size_t size);  // 64 lower-case hex digits
inline std::string sha256_hex(const std::string& bytes) {
  return sha256_hex(bytes.data(), bytes.size());
}

}  // namespace chimera
