#include "test_util.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include <array>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

namespace chimera::test {

CliResult run_chimera(const std::string& args) {
  return run_command(std::string(CHIMERA_BINARY) + " " + args);
}

CliResult run_command(const std::string& command) {
  const std::string cmd = command + " 2>&1";
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

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::pair<uint32_t, uint32_t> png_size(const std::filesystem::path& png) {
  std::ifstream in(png, std::ios::binary);
  std::string bytes(24, '\0');
  in.read(bytes.data(), 24);
  if (in.gcount() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

double matplotlib_data_share(const std::filesystem::path& png) {
  const std::string cmd =
      "/usr/bin/python3 -c \"import sys, numpy as np, matplotlib.image as m; "
      "a = (m.imread(sys.argv[1])[..., :3] * 255).reshape(-1, 3); "
      "c = np.array([[31, 119, 180], [255, 127, 14]]); "
      "d = np.abs(a[:, None, :] - c[None, :, :]).max(axis=2).min(axis=1); "
      "print((d <= 30).mean())\" '" + png.string() + "'";
  FILE* p = popen(cmd.c_str(), "r");
  double share = -1;
  if (p && std::fscanf(p, "%lf", &share) != 1) share = -1;
  if (p) pclose(p);
  return share;
}

std::vector<uint32_t> bits(const std::vector<float>& v) {
  std::vector<uint32_t> b(v.size());
  if (!v.empty()) std::memcpy(b.data(), v.data(), v.size() * sizeof(float));  // never null
  return b;
}

}  // namespace chimera::test
