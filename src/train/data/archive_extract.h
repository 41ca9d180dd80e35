// Unpacking a (compressed) tar archive with libarchive.
#pragma once

#include <string>

namespace chimera {

// Extracts the regular files and folders of `archive_path` under `dest_dir` (created if
// missing). Links and device entries are skipped; an entry whose path is absolute or climbs out
// with ".." is an error, so an archive can never write outside `dest_dir`.
void extract_archive(const std::string& archive_path, const std::string& dest_dir);

}  // namespace chimera
