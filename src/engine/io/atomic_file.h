// Whole-file reads and crash-safe writes (temporary name in the same folder, then rename).
#pragma once

#include <string>

namespace chimera {

std::string read_file(const std::string& path);  // error names the path and the reason

// Writes `bytes` to PATH.tmp.PID, flushes it to disk, then renames it over `path`: a reader
// sees the old file or the new one, never a part. A full disk or any other refusal is an error
// naming the path, and the previous file is left as it was. Before writing, temporaries of
// the same name left by processes that no longer exist are removed (remove_stale_temporaries).
void write_file_atomic(const std::string& path, const std::string& bytes);

// Removes `<name>.tmp.<pid>` beside `path` for every pid that is not a running process (a run
// killed mid-write leaves one). Files of live processes, ours included, are never touched.
// Returns how many were removed.
int remove_stale_temporaries(const std::string& path);

// Creates `dir` if needed and proves a file can be made in it, so a run learns at start-up, not
// after hours of training, that it cannot save. `what` names the setting in the error
// (e.g. "--checkpoint-dir").
void require_writable_folder(const std::string& dir, const std::string& what);

}  // namespace chimera
