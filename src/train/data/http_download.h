// Fetching a URL to a file with libcurl, and the MD5 of a file with OpenSSL's EVP API.
#pragma once

#include <string>

namespace chimera {

// Writes the body at `url` (http, https or file) to `path`, following redirects. Throws naming
// the URL on any failure: unreachable host, HTTP error status, a transfer that ends before its
// announced length, a stall of 60 s. On failure `path` may hold a partial file; the caller
// removes it.
void download_file(const std::string& url, const std::string& path);

// Lower-case hex MD5 of the file's bytes.
std::string md5_file_hex(const std::string& path);

}  // namespace chimera
