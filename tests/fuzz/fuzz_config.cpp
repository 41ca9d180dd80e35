// Fuzz target for YAML configs (parse_config): any text gives a Config or a chimera::Error with
// the file named, never a crash, a hang or a yaml-cpp exception escaping; an accepted config
// turns into JSON (as every run writes it) without error. main() (g++, ctest): see
// fuzz_driver.h.
#include <cstdint>
#include <string>

#include "engine/error.h"
#include "fuzz_driver.h"
#include "harness/experiments/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const chimera::Config c =
        chimera::parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    (void)chimera::config_to_json(c).dump();
  } catch (const chimera::Error&) {
  }
  return 0;
}

#ifndef CHIMERA_LIBFUZZER
int main(int argc, char** argv) {
  const std::string full =
      "lr: 0.002\nquant_mode: chimera\nstat_mode: ema\nste_clip: null\n"
      "quant_modes: [strict_bitnet, chimera]\n"
      "target_bits_controller: {tolerance: 0.01, step_size: 0.05, alpha_max: 2.0}\n"
      "benchmark:\n  steps: 10\n  log_dir: outputs/logs\n"
      "transformer: {dim: 64, layers: 2, heads: 4, kv_heads: 2, feed_forward: swiglu}\n"
      "lm_training: {optimizer: adamw, steps: 100, lr: 0.001}\n";
  return chimera::fuzz::run_main(argc, argv, "fuzz_config", {full, "lr: 1\n", "{}"},
                                 [](std::string& b, std::mt19937_64& rng) {
                                   // YAML structure in an odd place
                                   const char* const pieces[] = {"[", "{", ": ", "\n  ", "- ",
                                                                 "&a ", "*a", "? ", "\xc3",
                                                                 "!!binary ", "\"\\x8c\""};
                                   b.insert(rng() % (b.size() + 1), pieces[rng() % 11]);
                                 });
}
#endif
