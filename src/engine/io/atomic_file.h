// Whole-file reads and crash-safe writes (temporary name in the same folder, then rename).
#pragma once

#include <string>

namespace chimera {

std::string read_file(const std::string& path);  // error names the path and the reason
void write_file_atomic(const std::string& path, const std::string& bytes);

}  // namespace chimera
