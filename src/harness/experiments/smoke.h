// The smoke experiment (SPEC §7): BitLinear 8->4 in chimera mode, warm-up = steps, seed 7,
// Chimera21, MSE to a random target; steps 1, steps/2 and steps are reported.
#pragma once

#include <ostream>
#include <string>

#include "harness/experiments/config.h"

namespace chimera {

struct SmokeOptions {
  Config config;
  std::string log_jsonl;  // empty: console only
};

// Writes the reference's console lines to `out`, ending with "[smoke] status=passed".
void run_smoke(const SmokeOptions& options, std::ostream& out);

}  // namespace chimera
