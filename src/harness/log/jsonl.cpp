#include "harness/log/jsonl.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "engine/error.h"

namespace chimera {

JsonlWriter::JsonlWriter(const std::string& path, bool append) : path_(path) {
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  CHIMERA_CHECK(file_ != nullptr, "--log-jsonl: cannot write '", path, "': ", std::strerror(errno));
}

JsonlWriter::~JsonlWriter() {
  if (file_) std::fclose(file_);
}

JsonlWriter::JsonlWriter(JsonlWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)), path_(std::move(other.path_)) {}

JsonlWriter& JsonlWriter::operator=(JsonlWriter&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

void JsonlWriter::write(const Json& record) {
  if (!file_) return;
  const std::string line = record.dump() + "\n";
  const long before = std::ftell(file_);
  if (std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0)
    return;
  const int err = errno;
  // No half line left behind: the log stays a sequence of whole records.
  std::clearerr(file_);
  if (before >= 0 && ::ftruncate(::fileno(file_), before) == 0) std::fseek(file_, before, SEEK_SET);
  CHIMERA_FAIL("writing the log '", path_, "' failed: ", std::strerror(err),
               " (the records before this one are intact)");
}

std::string timestamp_utc() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(micros));
  return out;
}

}  // namespace chimera
