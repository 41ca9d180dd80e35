#include "engine/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/error.h"

namespace chimera {

MappedFile map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  CHIMERA_CHECK(fd >= 0, "cannot open '", path, "': ", std::strerror(errno));
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const int stat_errno = errno;
  if (!stat_ok || !S_ISREG(st.st_mode)) {
    ::close(fd);
    CHIMERA_CHECK(stat_ok, "cannot read '", path, "': ", std::strerror(stat_errno));
    CHIMERA_FAIL("cannot read '", path, "': it is not a regular file",
                 S_ISDIR(st.st_mode) ? " (a folder)" : "");
  }
  MappedFile m;
  m.size = static_cast<size_t>(st.st_size);
  if (m.size == 0) {  // mmap refuses zero bytes
    ::close(fd);
    static char empty[1] = {};
    m.data = empty;
    return m;
  }
  void* p = ::mmap(nullptr, m.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);  // the mapping keeps the file open
  CHIMERA_CHECK(p != MAP_FAILED, "cannot map '", path, "' (", m.size,
                " bytes) into memory: ", std::strerror(map_errno));
  // Readers go front to back (a checkpoint twice: checksums, then copies): ask for read-ahead.
  ::madvise(p, m.size, MADV_SEQUENTIAL);
  const size_t size = m.size;
  m.owner = std::shared_ptr<void>(p, [size](void* q) { ::munmap(q, size); });
  m.data = static_cast<char*>(p);
  return m;
}

}  // namespace chimera
