#include "engine/io/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace chimera {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CHIMERA_CHECK(in.good(), "cannot open '", path, "': ", std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path tmp = target.parent_path() /
                       (target.filename().string() + ".tmp." + std::to_string(::getpid()));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  CHIMERA_CHECK(f != nullptr, "cannot write '", path, "': ", std::strerror(errno),
                " (check that the folder exists and is writable)");
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                  std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok) {
    std::remove(tmp.c_str());
    CHIMERA_FAIL("writing '", path, "' failed: ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    const int rename_err = errno;
    std::remove(tmp.c_str());
    CHIMERA_FAIL("cannot move the finished file into place at '", path, "': ",
                 std::strerror(rename_err));
  }
}

}  // namespace chimera
