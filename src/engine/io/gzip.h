// gzip (RFC 1952) through zlib: whole buffers in and out. Used for the IDX files Debian ships
// gzip-compressed; the tests write such files with gzip_compress.
#pragma once

#include <string>

namespace chimera {

// True when `bytes` starts with the gzip magic (1f 8b).
bool is_gzip(const std::string& bytes);

// The decompressed contents of one or more concatenated gzip members. `name` (a path) is named
// in the errors: a truncated stream, a corrupt one (bad data or CRC) or trailing garbage.
std::string gzip_decompress(const std::string& bytes, const std::string& name);

// A single gzip member holding `bytes` (default compression level).
std::string gzip_compress(const std::string& bytes);

}  // namespace chimera
