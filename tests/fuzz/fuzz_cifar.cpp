// Fuzz target for CIFAR-10 binary batches (parse_cifar_binary): any bytes give records or a
// chimera::Error, never a crash; accepted records hold exactly the file's bytes. main() (g++,
// ctest): see fuzz_driver.h.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/error.h"
#include "fuzz_driver.h"
#include "train/data/cifar_binary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const chimera::CifarRecords r =
        chimera::parse_cifar_binary(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    if (static_cast<size_t>(r.size()) * chimera::kCifarRecordBytes != size) std::abort();
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  std::string two(2 * chimera::kCifarRecordBytes, '\x40');
  two[0] = 3;
  two[chimera::kCifarRecordBytes] = 9;
  return chimera::fuzz::run_main(argc, argv, "fuzz_cifar", {two},
                                 [](std::string& b, std::mt19937_64& rng) {
                                   // a label byte out of range
                                   const size_t records = b.size() / chimera::kCifarRecordBytes;
                                   if (records)
                                     b[(rng() % records) * chimera::kCifarRecordBytes] =
                                         static_cast<char>(10 + rng() % 246);
                                 });
}
#endif
