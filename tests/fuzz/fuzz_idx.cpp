// Fuzz target for the IDX reader (and the gzip decoder behind it): any bytes must give an
// IdxArray or a chimera::Error, never a crash, a hang or an unbounded allocation.
// With clang -fsanitize=fuzzer define CHIMERA_LIBFUZZER and link libFuzzer; otherwise the
// main() below replays the files given as arguments, then runs a seeded mutation loop over
// valid plain and gzip IDX files (the ctest `FuzzIdx.Mutations` runs it).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/error.h"
#include "fuzz_driver.h"
#include "train/data/idx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    chimera::parse_idx(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  const chimera::IdxArray seed{{3, 4, 5}, std::vector<uint8_t>(60, 7)};
  return chimera::fuzz::run_main(
      argc, argv, "fuzz_idx", {chimera::idx_bytes(seed, false), chimera::idx_bytes(seed, true)},
      [](std::string& b, std::mt19937_64& rng) {  // set a header byte to an extreme
        if (b.size() > 8) b[rng() % 8] = static_cast<char>(rng() % 2 ? 0xff : 0);
      });
}
#endif
