// Fuzz target for the fortune-file parser: any bytes must give a list of entries or a
// chimera::Error, never a crash, a hang or an unbounded allocation; and every entry it gives
// is non-empty and no longer than the input.
// With clang -fsanitize=fuzzer define CHIMERA_LIBFUZZER and link libFuzzer; otherwise the
// main() below replays the files given as arguments, then runs a seeded mutation loop over
// valid fortune files (the ctest `fuzz_fortunes.Mutations` runs it).
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/error.h"
#include "fuzz_driver.h"
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
  return chimera::fuzz::run_main(
      argc, argv, "fuzz_fortunes",
      {"A quotation\non two lines.\n\t\t-- Someone\n%\nShort one.\n%\n\n%\nLast, no final mark\n",
       "%\nfirst\r\n%\r\nsecond \xc3\xa9\n%\n%\n\nblank line above\n%"},
      [](std::string& b, std::mt19937_64& rng) {  // a separator, line break or CR anywhere
        const char* const pieces[] = {"\n%\n", "%", "\n", "\r"};
        b.insert(rng() % (b.size() + 1), pieces[rng() % 4]);
      });
}
#endif
