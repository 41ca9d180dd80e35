#include "engine/io/sha256.h"

#include <openssl/evp.h>

#include <memory>

#include "engine/error.h"

namespace chimera {

std::string sha256_raw(const void* data, size_t size) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CHIMERA_CHECK(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx.get(), data, size) == 1 &&
                    EVP_DigestFinal_ex(ctx.get(), digest, &length) == 1 && length == kSha256Bytes,
                "OpenSSL cannot compute SHA-256 (is the default provider available?)");
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string sha256_hex(const void* data, size_t size) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : sha256_raw(data, size)) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace chimera
