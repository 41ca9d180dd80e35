#include "train/data/http_download.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "engine/error.h"

namespace chimera {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

struct Sink {
  std::FILE* file;
  int write_errno = 0;
};

size_t write_to_file(char* data, size_t size, size_t count, void* user) {
  Sink* sink = static_cast<Sink*>(user);
  const size_t written = std::fwrite(data, 1, size * count, sink->file);
  if (written != size * count) sink->write_errno = errno;
  return written;  // less than asked makes curl stop with CURLE_WRITE_ERROR
}

}  // namespace

void download_file(const std::string& url, const std::string& path) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  File file(std::fopen(path.c_str(), "wb"));
  CHIMERA_CHECK(file != nullptr, "cannot create '", path,
                "' for the download: ", std::strerror(errno));
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  CHIMERA_CHECK(curl != nullptr, "cannot start libcurl to download '", url, "'");
  char error[CURL_ERROR_SIZE] = "";
  Sink sink{file.get()};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);  // HTTP 4xx/5xx is an error, not a body
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A transfer that sends nothing for 60 s is dropped instead of hanging the run.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_to_file);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode code = curl_easy_perform(c);
  if (code == CURLE_WRITE_ERROR && sink.write_errno != 0)
    CHIMERA_FAIL("downloading '", url, "' failed writing '", path,
                 "': ", std::strerror(sink.write_errno));
  CHIMERA_CHECK(code == CURLE_OK, "cannot download '", url,
                "': ", error[0] != '\0' ? error : curl_easy_strerror(code),
                code == CURLE_PARTIAL_FILE ? " (the transfer ended early; retry)"
                                           : " (check the URL and the network)");
  CHIMERA_CHECK(std::fflush(file.get()) == 0, "writing '", path,
                "' failed: ", std::strerror(errno));
}

std::string md5_file_hex(const std::string& path) {
  File file(std::fopen(path.c_str(), "rb"));
  CHIMERA_CHECK(file != nullptr, "cannot open '", path, "': ", std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  CHIMERA_CHECK(ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) == 1,
                "OpenSSL cannot compute MD5 (is the default provider available?)");
  std::unique_ptr<char[]> buffer(new char[1 << 20]);
  size_t n;
  while ((n = std::fread(buffer.get(), 1, 1 << 20, file.get())) > 0)
    CHIMERA_CHECK(EVP_DigestUpdate(ctx.get(), buffer.get(), n) == 1, "MD5 of '", path,
                  "' failed in OpenSSL");
  CHIMERA_CHECK(!std::ferror(file.get()), "reading '", path, "' failed: ", std::strerror(errno));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  CHIMERA_CHECK(EVP_DigestFinal_ex(ctx.get(), digest, &length) == 1, "MD5 of '", path,
                "' failed in OpenSSL");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace chimera
