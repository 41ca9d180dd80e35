// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero
// bytes, a type byte (0x08: unsigned bytes, the only type those sets use and the only one read
// here), the number of dimensions, then each dimension as a big-endian uint32, then the data,
// row-major. Files may be gzip-compressed (as Debian ships them); that is detected by content.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chimera {

struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // prod(dims) bytes

  int64_t count() const { return dims.empty() ? 0 : dims[0]; }
};

inline constexpr uint8_t kIdxUnsignedByte = 0x08;

// Reads `path` (plain or gzip). Every error names the file and what is wrong: bad magic, a type
// other than unsigned bytes, a size that does not match the dimensions, a truncated or corrupt
// gzip stream.
IdxArray read_idx(const std::string& path);
// The same from bytes already in memory; `name` is used in the errors (the fuzz target's entry).
IdxArray parse_idx(const std::string& bytes, const std::string& name);

// The bytes of an IDX file holding `array` (unsigned bytes), optionally gzip-compressed.
std::string idx_bytes(const IdxArray& array, bool gzip);

}  // namespace chimera
