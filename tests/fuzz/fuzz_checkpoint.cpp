// Fuzz target for checkpoints (safetensors plus our metadata and checksums): any bytes give a
// Checkpoint or a chimera::Error, never a crash or a hang. main() (g++, ctest): see
// fuzz_driver.h; its seeds are a checkpoint with metadata and optimizer state, and one without
// checksums (as PyTorch writes).
#include <cstdint>
#include <string>

#include "engine/error.h"
#include "engine/io/safetensors.h"
#include "fuzz_driver.h"
#include "train/trainer/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    chimera::parse_checkpoint(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  using chimera::Tensor;
  chimera::Checkpoint c;
  c.model = {{"fc.weight", Tensor::from_vector({2, 2}, {0.5f, -1, 2, 0})},
             {"fc.bias", Tensor::from_vector({2}, {0.1f, 0.2f})}};
  c.optimizer = {{"step", Tensor({1}, chimera::DType::i64)}};
  c.metadata = {{"metrics", {{"epoch", 3}}}, {"arguments", {{"seed", 7}}}};
  const std::string ours = chimera::serialize_checkpoint(c);
  const std::string plain = chimera::serialize_safetensors(c.model, {});
  return chimera::fuzz::run_main(argc, argv, "fuzz_checkpoint", {ours, plain},
                                 chimera::fuzz::set_u64_somewhere);
}
#endif
