#include "train/data/archive_extract.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "engine/error.h"

namespace chimera {

namespace fs = std::filesystem;

static bool is_safe_entry_path(const fs::path& path) {
  if (path.empty() || path.is_absolute() || path.has_root_name()) return false;
  for (const fs::path& part : path)
    if (part == "..") return false;
  return true;
}

static std::string error_text(archive* a) {
  const char* text = archive_error_string(a);
  return text ? text : "unknown libarchive error";
}

void extract_archive(const std::string& archive_path, const std::string& dest_dir) {
  std::unique_ptr<archive, int (*)(archive*)> reader(archive_read_new(), archive_read_free);
  archive* a = reader.get();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  CHIMERA_CHECK(archive_read_open_filename(a, archive_path.c_str(), 1 << 16) == ARCHIVE_OK,
                "cannot open the archive '", archive_path, "': ", error_text(a));
  fs::create_directories(dest_dir);
  archive_entry* entry;
  int status;
  while ((status = archive_read_next_header(a, &entry)) == ARCHIVE_OK) {
    const char* name = archive_entry_pathname(entry);
    const fs::path relative = fs::path(name ? name : "").lexically_normal();
    CHIMERA_CHECK(is_safe_entry_path(relative), "the archive '", archive_path,
                  "' has an entry outside its folder ('", name ? name : "", "'); not extracting");
    const fs::path target = fs::path(dest_dir) / relative;
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      fs::create_directories(target);
      continue;
    }
    if (type != AE_IFREG) continue;
    fs::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    CHIMERA_CHECK(out.good(), "cannot create '", target.string(), "' while extracting");
    const void* block;
    size_t size;
    la_int64_t offset;
    int data_status;
    while ((data_status = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
      out.seekp(offset);  // sparse entries leave holes between blocks
      out.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
    }
    CHIMERA_CHECK(data_status == ARCHIVE_EOF, "the archive '", archive_path, "' is damaged at '",
                  name, "': ", error_text(a));
    CHIMERA_CHECK(out.flush().good(), "writing '", target.string(), "' failed while extracting");
  }
  CHIMERA_CHECK(status == ARCHIVE_EOF, "the archive '", archive_path,
                "' is damaged: ", error_text(a));
}

}  // namespace chimera
