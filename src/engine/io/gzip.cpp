#include "engine/io/gzip.h"

#include <zlib.h>

#include <cstring>

#include "engine/error.h"

namespace chimera {
namespace {

constexpr size_t kChunk = size_t{1} << 20;

// zlib's window bits for "gzip header and trailer, 32 KB window".
constexpr int kGzipWindowBits = 15 + 16;

}  // namespace

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gzip_decompress(const std::string& bytes, const std::string& name) {
  CHIMERA_CHECK(is_gzip(bytes), "'", name, "' is not gzip data (no 1f 8b magic)");
  z_stream z;
  std::memset(&z, 0, sizeof z);
  CHIMERA_CHECK(inflateInit2(&z, kGzipWindowBits) == Z_OK, "zlib: inflateInit2 failed");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  int status = Z_OK;
  while (true) {
    const size_t used = out.size();
    out.resize(used + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(kChunk);
    status = inflate(&z, Z_NO_FLUSH);
    out.resize(used + kChunk - z.avail_out);
    if (status == Z_STREAM_END) {
      // Another member may follow (gzip allows concatenation); anything else is garbage.
      if (z.avail_in == 0) break;
      const std::string rest(reinterpret_cast<const char*>(z.next_in), z.avail_in);
      if (!is_gzip(rest)) {
        inflateEnd(&z);
        CHIMERA_FAIL("'", name, "': ", rest.size(),
                     " bytes of garbage after the gzip data (a damaged download? fetch or "
                     "reinstall the file)");
      }
      CHIMERA_CHECK(inflateReset(&z) == Z_OK, "zlib: inflateReset failed");
      continue;
    }
    if (status == Z_OK) continue;
    if (status == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended inside the stream
    const std::string why = z.msg ? z.msg : "zlib error " + std::to_string(status);
    inflateEnd(&z);
    CHIMERA_FAIL("'", name, "' is corrupt gzip data (", why,
                 "); fetch or reinstall the file");
  }
  inflateEnd(&z);
  CHIMERA_CHECK(status == Z_STREAM_END, "'", name,
                "' is truncated: the gzip stream ends early (an interrupted download or copy? "
                "fetch or reinstall the file)");
  return out;
}

std::string gzip_compress(const std::string& bytes) {
  z_stream z;
  std::memset(&z, 0, sizeof z);
  CHIMERA_CHECK(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                             Z_DEFAULT_STRATEGY) == Z_OK,
                "zlib: deflateInit2 failed");
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int status = deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  CHIMERA_CHECK(status == Z_STREAM_END, "zlib: deflate failed (", status, ")");
  return out;
}

}  // namespace chimera
