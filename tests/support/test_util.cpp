#include "test_util.h"

#include <array>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

namespace chimera::test {

CliResult run_chimera(const std::string& args) {
  const std::string cmd = std::string(CHIMERA_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  return {WEXITSTATUS(status), out};
}

// The process id keeps parallel ctest runs (one process per test) out of each other's folders.
TempDir::TempDir(const std::string& name)
    : path(std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()))) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

}  // namespace chimera::test
