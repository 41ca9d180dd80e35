// Fuzz target for exported model files (parse_model_file, then every ternary tensor unpacked as
// `chimera inspect` does): any bytes give a model or a chimera::Error, never a crash, a hang or
// an allocation the bytes do not back. Checksums stop most mutations early, so the own edit
// also rewrites a file whose checksums are recomputed (serialize_model_file of a changed
// model). main() (g++, ctest): see fuzz_driver.h.
#include <cstdint>
#include <string>

#include "engine/error.h"
#include "fuzz_driver.h"
#include "model/models/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const chimera::ModelFile f =
        chimera::parse_model_file(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    for (const auto& [name, t] : f.ternary) chimera::unpack_codes(t.packed);
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
namespace {

chimera::ModelFile seed_model(int64_t rows, int64_t cols, chimera::PackFormat format) {
  chimera::Tensor codes({rows, cols}, chimera::DType::i8);
  for (int64_t i = 0; i < codes.numel(); ++i)
    codes.data<int8_t>()[i] = static_cast<int8_t>(i % 4 == 0 ? 0 : i % 3 - 1);
  chimera::ModelFile m;
  m.description = {{"model", "fuzz"}, {"width", 3}};
  m.ternary.push_back({"conv", {{rows, cols, 1, 1}, chimera::pack_ternary(codes, 0.5f, format),
                                0.25, 1.0f}});
  m.floats.push_back({"bias", chimera::Tensor::from_vector({rows}, std::vector<float>(rows, 1))});
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string a = chimera::serialize_model_file(seed_model(3, 8, chimera::PackFormat::entropy));
  const std::string b = chimera::serialize_model_file(seed_model(4, 5, chimera::PackFormat::i2));
  return chimera::fuzz::run_main(
      argc, argv, "fuzz_model_file", {a, b}, [](std::string& bytes, std::mt19937_64& rng) {
        // a well-formed file (checksums right) with an extreme shape or a damaged payload
        chimera::ModelFile m = seed_model(1 + rng() % 4, 1 + rng() % 9,
                                          static_cast<chimera::PackFormat>(rng() % 3));
        if (rng() % 2) m.ternary[0].second.packed.header.cols *= 1 + rng() % 100000;
        if (!m.ternary[0].second.packed.payload.empty() && rng() % 2)
          m.ternary[0].second.packed.payload[0] ^= 0x5a;
        if (rng() % 2) m.floats[0].second = chimera::Tensor({1 + int64_t(rng() % 9)});
        try {
          bytes = chimera::serialize_model_file(m);
        } catch (const chimera::Error&) {
        }
      });
}
#endif
