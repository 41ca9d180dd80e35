// Helpers several test programs share: running the chimera binary, catching an error message,
// a temporary folder that cleans up after itself.
#pragma once

#include <filesystem>
#include <string>

#include "engine/error.h"

namespace chimera::test {

struct CliResult {
  int code;
  std::string out;  // stdout and stderr together
};
// Runs `chimera <args>` (the binary this build made) through the shell.
CliResult run_chimera(const std::string& args);

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

}  // namespace chimera::test
