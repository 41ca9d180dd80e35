// The main() of a fuzz target built without libFuzzer (g++, ctest): replays the files named on
// the command line, then feeds LLVMFuzzerTestOneInput `--iterations=N` (default 20000) inputs
// made from the target's valid seeds by 1-4 random edits each: flip a byte, truncate, append
// garbage, or the target's own edit. The generator is seeded, so a failure reproduces.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace chimera::fuzz {

using Edit = std::function<void(std::string& bytes, std::mt19937_64& rng)>;

inline void feed(const std::string& b) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(b.data()), b.size());
}

inline int run_main(int argc, char** argv, const char* name, const std::vector<std::string>& seeds,
                    const Edit& own_edit) {
  int64_t iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--iterations=", 0) == 0) {
      iterations = std::stoll(arg.substr(13));
      continue;
    }
    std::ifstream in(arg, std::ios::binary);
    feed(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
  std::mt19937_64 rng(12345);
  for (int64_t it = 0; it < iterations; ++it) {
    std::string b = seeds[static_cast<size_t>(it) % seeds.size()];
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
        default:
          own_edit(b, rng);
      }
      if (b.empty()) break;
    }
    feed(b);
  }
  std::printf("%s: %lld mutated inputs, no crash\n", name, static_cast<long long>(iterations));
  return 0;
}

}  // namespace chimera::fuzz
