#include "model/quant/target_bits.h"

#include "model/quant/ternary_stats.h"

namespace chimera {

Branch parse_branch(const std::string& name) {
  if (name == "sparse") return Branch::sparse;
  if (name == "dense") return Branch::dense;
  CHIMERA_FAIL("branch must be 'sparse' or 'dense', got '", name, "'");
}

const char* branch_name(Branch branch) {
  return branch == Branch::sparse ? "sparse" : "dense";
}

namespace {

double symmetric_entropy(double zero_ratio) {
  const double side = (1.0 - zero_ratio) / 2.0;
  return entropy_from_ratios(zero_ratio, side, side);
}

}  // namespace

double zero_ratio_for_entropy(double h, Branch branch) {
  CHIMERA_CHECK(h >= 0.0 && h <= kMaxEffectiveBits,
                "target bits must be in [0, log2(3) = ", kMaxEffectiveBits, "], got ", h);
  CHIMERA_CHECK(branch == Branch::sparse || h >= 1.0,
                "the dense branch cannot reach entropy below 1 bit, got ", h,
                " (use the sparse branch)");
  // H rises on the dense branch and falls on the sparse one; keep the root inside [lo, hi].
  const bool sparse = branch == Branch::sparse;
  double lo = sparse ? 1.0 / 3.0 : 0.0, hi = sparse ? 1.0 : 1.0 / 3.0;
  for (int i = 0; i < 80; ++i) {
    const double mid = (lo + hi) / 2.0;
    const double entropy = symmetric_entropy(mid);
    if (sparse ? entropy > h : entropy < h)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2.0;
}

}  // namespace chimera
