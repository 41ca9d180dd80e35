// Fuzz target for the fortune-file parser: any bytes must give a list of entries or a
// chimera::Error, never a crash, a hang or an unbounded allocation; and every entry it gives
// is non-empty and no longer than the input.
// With clang -fsanitize=fuzzer define CHIMERA_LIBFUZZER and link libFuzzer; otherwise the
// main() below replays the files given as arguments, then runs a seeded mutation loop over
// valid fortune files (the ctest `fuzz_fortunes.Mutations` runs it).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "engine/error.h"
#include "train/data/text_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto entries =
        chimera::parse_fortune_file(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    for (const std::string& e : entries)
      if (e.empty() || e.size() > size) std::abort();
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
  const std::string seeds[] = {
      "A quotation\non two lines.\n\t\t-- Someone\n%\nShort one.\n%\n\n%\nLast, no final mark\n",
      "%\nfirst\r\n%\r\nsecond \xc3\xa9\n%\n%\n\nblank line above\n%"};
  const char* const kPieces[] = {"\n%\n", "%", "\n", "\r"};
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
        default:  // put a separator, line break or carriage return anywhere
          b.insert(rng() % (b.size() + 1), kPieces[rng() % 4]);
      }
      if (b.empty()) break;
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  }
  std::printf("fuzz_fortunes: %lld mutated inputs, no crash\n", static_cast<long long>(iterations));
  return 0;
}
#endif
