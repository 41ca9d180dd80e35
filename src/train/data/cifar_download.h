// Fetching the official CIFAR-10 binary archive, only when a user asks for it (--download).
#pragma once

#include <string>

namespace chimera {

inline constexpr const char* kCifarUrl = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
inline constexpr const char* kCifarMd5 = "c32a1d4ab5d03f1284b67883e8d87530";

// Downloads the archive at `url` to a temporary file in `root` (created if missing), checks its
// MD5 against `md5`, extracts it into a temporary folder there, and renames the extracted
// cifar-10-batches-bin/ to root/cifar-10-batches-bin. Every failure (unreachable URL, truncated
// transfer, wrong checksum, an archive without the six batch files) throws and leaves `root` as
// it was. An existing root/cifar-10-batches-bin is an error, never overwritten.
void download_cifar(const std::string& root, const std::string& url = kCifarUrl,
                    const std::string& md5 = kCifarMd5);

}  // namespace chimera
