// Fuzz target for the safetensors reader: any bytes give a Safetensors or a chimera::Error, never
// a crash, a hang or an allocation the file's bytes do not back; what it accepts writes back
// and reads again to the same tensors. main() (g++, ctest): see fuzz_driver.h.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    // As a mapped file is read: tensors share the bytes (kept alive by the owner), none copied.
    auto bytes = std::make_shared<std::string>(reinterpret_cast<const char*>(data), size);
    const chimera::Safetensors st = chimera::parse_safetensors(*bytes, "fuzz", bytes);
    bytes.reset();  // the tensors alone keep the bytes now
    const chimera::Safetensors again = chimera::parse_safetensors(
        chimera::serialize_safetensors(st.tensors, st.metadata), "again");
    if (again.tensors.size() != st.tensors.size()) std::abort();
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  using chimera::Tensor;
  const std::string two = chimera::serialize_safetensors(
      {{"conv.weight", Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6})},
       {"steps", Tensor({1}, chimera::DType::i64)},
       {"codes", Tensor({4}, chimera::DType::i8)}},
      {{"format", "x"}, {"note", "seed"}});
  const std::string empty = chimera::serialize_safetensors({}, {});
  return chimera::fuzz::run_main(argc, argv, "fuzz_safetensors", {two, empty},
                                 [](std::string& b, std::mt19937_64& rng) {
                                   // a digit of the JSON header (shapes, offsets) to a 9
                                   for (size_t i = 8; i < b.size() && i < 400; ++i)
                                     if (b[i] >= '0' && b[i] <= '9' && rng() % 8 == 0) b[i] = '9';
                                 });
}
#endif
