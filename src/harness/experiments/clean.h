// `chimera clean`: removes what runs leave in their default places under a working folder, and
// nothing else. Looked at: everything under <folder>/outputs. Removed: files a chimera command
// wrote there, recognised by their content — JSONL logs whose first line is one of our records
// (a "record_type" key), checkpoints (safetensors whose metadata has our "arguments",
// "config" or "trainer_state"), model files (the "CHIMODEL" magic), an ablation's table.md and
// table.json next to its ablation.jsonl, a report (report_data.json with its index.html and
// figures) and temporary files of interrupted writes (*.tmp.*).
// Kept and listed: every other file, anything reached through a symbolic link (links are
// never followed; a link itself is kept), and anything whose real path is outside the folder.
// Folders left empty by the removal are removed too.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace chimera {

struct CleanResult {
  std::vector<std::string> removed, kept;  // paths relative to the folder, sorted
};

// dry_run: decide and print, remove nothing. Each line: "removed PATH" or "would remove PATH",
// and "kept PATH (why)".
CleanResult clean_outputs(const std::string& folder, bool dry_run, std::ostream& out);

}  // namespace chimera
