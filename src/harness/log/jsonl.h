// JSONL logs as the reference writes them: one object per line, keys sorted, the file truncated
// when a run starts (unless appending), each line flushed as soon as it is written.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace chimera {

using Json = nlohmann::json;  // std::map-backed: dump() writes keys in sorted order

class JsonlWriter {
 public:
  JsonlWriter() = default;  // a writer without a file writes nothing
  // Opens (creating parent folders) and truncates unless `append`; an unwritable path is an
  // error naming it.
  JsonlWriter(const std::string& path, bool append);
  ~JsonlWriter();
  JsonlWriter(JsonlWriter&& other) noexcept;
  JsonlWriter& operator=(JsonlWriter&& other) noexcept;

  void write(const Json& record);
  bool enabled() const { return file_ != nullptr; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
};

std::string timestamp_utc();  // ISO-8601 UTC with microseconds and a Z, like the reference

}  // namespace chimera
