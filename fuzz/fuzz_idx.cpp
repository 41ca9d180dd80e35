// Fuzz target for the IDX reader (and the gzip decoder behind it): any bytes must give an
// IdxArray or a chimera::Error, never a crash, a hang or an unbounded allocation.
// With clang -fsanitize=fuzzer define CHIMERA_LIBFUZZER and link libFuzzer; otherwise the
// main() below replays the files given as arguments, then runs a seeded mutation loop over
// valid plain and gzip IDX files (the ctest `FuzzIdx.Mutations` runs it).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "engine/error.h"
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
  int64_t iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::stoll(arg.substr(13));
      continue;
    }
    std::ifstream in(arg, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  chimera::IdxArray seed{{3, 4, 5}, std::vector<uint8_t>(60, 7)};
  const std::string seeds[] = {chimera::idx_bytes(seed, false), chimera::idx_bytes(seed, true)};
  std::mt19937_64 rng(12345);
  for (int64_t it = 0; it < iterations; ++it) {
    std::string b = seeds[it % 2];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:  // flip a byte
          b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
          break;
        case 1:  // truncate
          b.resize(rng() % (b.size() + 1));
          break;
        case 2:  // append garbage
          b.append(1 + rng() % 16, static_cast<char>(rng()));
          break;
        default:  // set a header byte to an extreme
          if (b.size() > 8) b[rng() % 8] = static_cast<char>(rng() % 2 ? 0xff : 0);
      }
      if (b.empty()) break;
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  }
  std::printf("fuzz_idx: %lld mutated inputs, no crash\n", static_cast<long long>(iterations));
  return 0;
}
#endif
