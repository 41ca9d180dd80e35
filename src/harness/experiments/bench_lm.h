// `chimera bench lm`: a language model's speed as llama-bench measures it, so the two programs
// can be timed side by side on one GGUF file: prompt processing (pp: one forward of P tokens
// from an empty cache) and text generation (tg: G tokens one at a time from an empty cache),
// random token ids, one untimed warm-up of each, then `repetitions` timed runs; tokens/s.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace chimera {

struct LmBenchOptions {
  std::string checkpoint, model;  // exactly one
  int64_t prompt_tokens = 512;    // 0: no pp test
  int64_t gen_tokens = 128;       // 0: no tg test
  int repetitions = 5;
  bool json = false;
};

// Prints the platform line, then one line (or JSON object) per test: mean and standard
// deviation of tokens/s over the repetitions, as llama-bench's table.
void run_lm_bench(const LmBenchOptions& options, std::ostream& out);

}  // namespace chimera
