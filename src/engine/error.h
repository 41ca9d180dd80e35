// Errors that reach a user: what was wrong and what to do, plus where it was raised.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace chimera {

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line)
      : std::runtime_error(message), file_(file), line_(line) {}
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  // "src/x.cpp:12" for bug reports; empty when raised without a location.
  std::string where() const {
    return file_ ? std::string(file_) + ":" + std::to_string(line_) : std::string();
  }

 private:
  const char* file_ = nullptr;
  int line_ = 0;
};

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] inline void fail_at(const char* file, int line, const std::string& message) {
  throw Error(message, file, line);
}

}  // namespace chimera

// CHIMERA_CHECK(cond, "message parts", value, ...) throws chimera::Error when cond is false.
#define CHIMERA_CHECK(cond, ...)                                              \
  do {                                                                        \
    if (!(cond)) ::chimera::fail_at(__FILE__, __LINE__, ::chimera::concat(__VA_ARGS__)); \
  } while (0)

#define CHIMERA_FAIL(...) ::chimera::fail_at(__FILE__, __LINE__, ::chimera::concat(__VA_ARGS__))
