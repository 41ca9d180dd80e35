#include "train/data/idx_file.h"

#include "engine/error.h"
#include "engine/io/atomic_file.h"
#include "engine/io/gzip.h"

namespace chimera {
namespace {

constexpr int kMaxDims = 8;  // MNIST uses 1 (labels) and 3 (images)

uint32_t big_endian_u32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

}  // namespace

IdxArray parse_idx(const std::string& raw, const std::string& name) {
  const std::string bytes = is_gzip(raw) ? gzip_decompress(raw, name) : raw;
  const std::string hint = " (not an MNIST/Fashion-MNIST IDX file, or a damaged one)";
  CHIMERA_CHECK(bytes.size() >= 4, "'", name, "' has ", bytes.size(),
                " bytes, too short for the 4-byte IDX magic", hint);
  CHIMERA_CHECK(bytes[0] == 0 && bytes[1] == 0, "'", name,
                "' does not start with the IDX magic 00 00", hint);
  const int type = static_cast<unsigned char>(bytes[2]), ndims = static_cast<unsigned char>(bytes[3]);
  CHIMERA_CHECK(type == kIdxUnsignedByte, "'", name, "' holds IDX type 0x", std::hex, type,
                std::dec, "; only unsigned bytes (0x08) are read, as MNIST and Fashion-MNIST use");
  CHIMERA_CHECK(ndims >= 1 && ndims <= kMaxDims, "'", name, "' declares ", ndims,
                " dimensions; 1 to ", kMaxDims, " are read", hint);
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  CHIMERA_CHECK(bytes.size() >= header, "'", name, "' ends inside its header (", bytes.size(),
                " bytes, the header needs ", header, ")", hint);
  IdxArray array;
  uint64_t total = 1;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t n = big_endian_u32(bytes, 4 + 4 * static_cast<size_t>(d));
    array.dims.push_back(n);
    total *= n;
    CHIMERA_CHECK(total <= (uint64_t{1} << 40), "'", name, "' declares dimensions too large to be real",
                  hint);
  }
  const uint64_t have = bytes.size() - header;
  CHIMERA_CHECK(have == total, "'", name, "' has ", have, " data bytes but its dimensions need ",
                total, have < total ? " (truncated?)" : " (trailing bytes?)", hint);
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

IdxArray read_idx(const std::string& path) { return parse_idx(read_file(path), path); }

std::string idx_bytes(const IdxArray& array, bool gzip) {
  CHIMERA_CHECK(!array.dims.empty() && array.dims.size() <= kMaxDims,
                "an IDX array needs 1 to ", kMaxDims, " dimensions, got ", array.dims.size());
  uint64_t total = 1;
  std::string out = {'\0', '\0', static_cast<char>(kIdxUnsignedByte),
                     static_cast<char>(array.dims.size())};
  for (int64_t n : array.dims) {
    CHIMERA_CHECK(n >= 0 && n <= 0xffffffffLL, "IDX dimension ", n, " does not fit 32 bits");
    total *= static_cast<uint64_t>(n);
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  }
  CHIMERA_CHECK(array.data.size() == total, "IDX data has ", array.data.size(),
                " bytes, the dimensions need ", total);
  out.append(array.data.begin(), array.data.end());
  return gzip ? gzip_compress(out) : out;
}

}  // namespace chimera
