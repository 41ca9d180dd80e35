// Target bits -> target zero ratio (SPEC §1). With symmetric signs (plus = minus = (1 - z) / 2)
// the entropy H(z) rises on [0, 1/3] (the dense branch) and falls on [1/3, 1] (the sparse
// branch); zero_ratio_for_entropy inverts it on one branch.
#pragma once

#include <string>

namespace chimera {

enum class Branch { sparse, dense };
Branch parse_branch(const std::string& name);  // "sparse" or "dense", else an error
const char* branch_name(Branch branch);

// Solves H(z) = h by 80 halvings, as the reference does. h outside [0, log2 3] is an error, and
// so is h < 1 on the dense branch (its entropy never falls below 1 bit).
// Example: h = 1.32 gives z = 0.63038 (sparse) and z = 0.0791 (dense).
double zero_ratio_for_entropy(double h, Branch branch);

}  // namespace chimera
