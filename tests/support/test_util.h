// Helpers several test programs share: running the chimera binary, catching an error message,
// a temporary folder that cleans up after itself.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/error.h"

namespace chimera::test {

struct CliResult {
  int code;
  std::string out;  // stdout and stderr together
};
// Runs `chimera <args>` (the binary this build made) through the shell.
CliResult run_chimera(const std::string& args);
// Runs a shell command line, output and exit code as run_chimera.
CliResult run_command(const std::string& command);

// The message of the chimera::Error fn() throws, or "" when it does not throw.
template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A fresh folder of its own under the system's temporary directory, removed with everything in
// it.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Writes `bytes` to `path` as they are (creating its folder): test input files, good or damaged.
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// Width and height from a PNG file's IHDR chunk; 0 x 0 when it is not a PNG.
std::pair<uint32_t, uint32_t> png_size(const std::filesystem::path& png);

// Share of a PNG's pixels in the colours matplotlib gives the first two data series (C0
// #1f77b4, C1 #ff7f0e), read with matplotlib's PNG reader: axes, grid and text are black and
// grey, so a figure with no data drawn in it gives 0. -1 when Python cannot read it.
double matplotlib_data_share(const std::filesystem::path& png);

// Bit patterns of floats, so that -0 / +0 and NaN payloads count in a comparison.
std::vector<uint32_t> bits(const std::vector<float>& v);

}  // namespace chimera::test
