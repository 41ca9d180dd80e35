// A whole file mapped into memory, so that a reader can hand out parts of it without copying
// them. Loading a 550 MB training checkpoint for inference used to read it into a growing
// string, copy that, then copy every tensor out of it: 10 s and a 1.07 GB peak, most of it page
// faults on fresh memory. A mapping is read from the page cache as it is touched.
//
// The mapping is private and writable: a write to a tensor that aliases it changes that
// process's copy of the page, never the file. As with any mapped file (llama.cpp maps its
// models the same way), a file truncated by another process while it is mapped makes later
// reads of the lost pages fault; our writers never do that (they write a new file and rename it).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace chimera {

struct MappedFile {
  std::shared_ptr<void> owner;  // unmaps when the last user (a tensor, say) is gone
  char* data = nullptr;         // non-null even for an empty file
  size_t size = 0;
  std::string_view bytes() const { return {data, size}; }
};

// Errors name the path and the reason (missing, unreadable, a folder).
MappedFile map_file(const std::string& path);

}  // namespace chimera
