// Fuzz target for packed ternary tensors (parse_packed, then unpack_codes as every reader
// does): any bytes give codes or a chimera::Error, never a crash, a hang or a decode larger
// than the bytes allow (max_entropy_weights); an accepted tensor packs back to the same codes.
// main() (g++, ctest): see fuzz_driver.h; seeds in all three formats.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/error.h"
#include "fuzz_driver.h"
#include "model/quant/packed_ternary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const chimera::PackedTernary p =
        chimera::parse_packed(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    const chimera::Tensor codes = chimera::unpack_codes(p);
    const chimera::Tensor again =
        chimera::unpack_codes(chimera::pack_ternary(codes, p.header.scale, chimera::PackFormat::i2));
    if (std::memcmp(codes.raw(), again.raw(), codes.nbytes()) != 0) std::abort();
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  chimera::Tensor codes({5, 7}, chimera::DType::i8);
  for (int64_t i = 0; i < codes.numel(); ++i)
    codes.data<int8_t>()[i] = static_cast<int8_t>(i % 5 == 0 ? 0 : i % 3 - 1);
  std::vector<std::string> seeds;
  for (auto f : {chimera::PackFormat::i2, chimera::PackFormat::tq1, chimera::PackFormat::entropy})
    seeds.push_back(chimera::serialize_packed(chimera::pack_ternary(codes, 0.25f, f)));
  return chimera::fuzz::run_main(argc, argv, "fuzz_packed", seeds,
                                 [](std::string& b, std::mt19937_64& rng) {
                                   // rows, cols or a frequency (offsets 8..31) to an extreme
                                   if (b.size() < 32) return;
                                   const size_t at = 8 + 4 * (rng() % 6);
                                   const uint32_t v = rng() % 2 ? 0xffffffffu : 1u << (rng() % 32);
                                   std::memcpy(&b[at], &v, 4);
                                 });
}
#endif
