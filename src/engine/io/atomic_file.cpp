#include "engine/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/io/mapped_file.h"

namespace chimera {

std::string read_file(const std::string& path) {
  // A regular file is copied out of its mapping in one pass; a stream buffer grows by doubling
  // and is copied out at the end, three copies of a 500 MB file. Pipes and the like stream.
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return std::string(map_file(path).bytes());
  std::ifstream in(path, std::ios::binary);
  CHIMERA_CHECK(in.good(), "cannot open '", path, "': ", std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

namespace {

std::string temporary_name(const std::filesystem::path& target, long pid) {
  return target.filename().string() + ".tmp." + std::to_string(pid);
}

// A process with this pid exists (it may belong to another user: EPERM still means alive).
bool process_alive(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; }

// Makes the rename itself durable: without it a power cut can forget the new directory entry.
void sync_folder(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

int remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = target.filename().string() + ".tmp.";
  int removed = 0;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    if (pid <= 0 || pid == ::getpid() || process_alive(pid)) continue;
    std::error_code rm;
    if (e.is_regular_file(rm) && fs::remove(e.path(), rm)) ++removed;
  }
  return removed;
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  remove_stale_temporaries(path);
  const fs::path tmp = target.parent_path() / temporary_name(target, ::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  CHIMERA_CHECK(f != nullptr, "cannot write '", path, "': ", std::strerror(errno),
                " (check that the folder exists and is writable)");
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
            std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  int err = errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    CHIMERA_FAIL("writing '", path, "' failed: ", std::strerror(err),
                 " (the previous file, if any, is unchanged; free space or choose another folder)");
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    const int rename_err = errno;
    std::remove(tmp.c_str());
    CHIMERA_FAIL("cannot move the finished file into place at '", path, "': ",
                 std::strerror(rename_err));
  }
  sync_folder(target.parent_path());
}

void require_writable_folder(const std::string& dir, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  CHIMERA_CHECK(!ec, what, " '", dir, "': cannot create the folder: ", ec.message());
  const fs::path probe = fs::path(dir) / (".chimera-write-probe." + std::to_string(::getpid()));
  FILE* f = std::fopen(probe.c_str(), "wb");
  CHIMERA_CHECK(f != nullptr, what, " '", dir, "': cannot write files there: ",
                std::strerror(errno));
  std::fclose(f);
  std::remove(probe.c_str());
}

}  // namespace chimera
