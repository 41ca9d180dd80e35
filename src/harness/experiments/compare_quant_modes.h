// The compare-quant-modes experiment (SPEC §7): strict_bitnet and chimera BitLinear layers
// trained on the same data from the same initial weights with Chimera21, for several seeds
// (data seed 11 + i, init seed data seed + 18), warm-up = steps, MSE to a random target; records
// at steps 1, steps/2 and steps, then a per-mode summary over seeds.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "harness/experiments/config.h"
#include "harness/log/records.h"

namespace chimera {

struct CompareQuantModesOptions {
  Config config;  // layer settings (activation_grad included), Chimera21 settings, quant_modes
  int64_t steps = 8, seeds = 3, batch_size = 16, in_features = 8, out_features = 4;
  double lr = 1e-3;
  std::string log_jsonl;  // empty: console only; truncated when the run starts
  std::string init_from;  // empty: data and weights from Rng; else a start file (see below)
  std::string save_init;  // empty: not saved; else the start is written there (atomically)

  // Errors name the flag: --steps, --seeds, --batch-size, --in-features, --out-features must be
  // positive, --lr non-negative; quant_modes must hold strict_bitnet and chimera.
  void validate() const;
};

// The reference's defaults: benchmark section of the config for sizes, steps and seeds, lr.
CompareQuantModesOptions compare_quant_modes_defaults(const Config& config);

// Where one seed starts: its data, and each mode's initial weight_master [out, in] and bias [out].
struct ModeStart {
  Tensor weight_master, bias;
};
struct SeedStart {
  int64_t seed = 0, init_seed = 0;
  Tensor x, target;  // [batch, in], [batch, out]
  std::map<std::string, ModeStart> modes;
};

// Data from Rng(seed), weights as BitLinear draws them from Rng(init_seed).
std::vector<SeedStart> draw_compare_start(const CompareQuantModesOptions& options);
// A start file holds, for seed index I and each mode, the f32 tensors s<I>.x, s<I>.target,
// s<I>.<mode>.init.weight_master and s<I>.<mode>.init.bias (the layout of the reference's
// traj_compare_quant_modes golden files). A missing key or a wrong dtype or shape is an error
// naming the key and the file.
std::vector<SeedStart> load_compare_start(const std::string& path,
                                          const CompareQuantModesOptions& options);
void save_compare_start(const std::string& path, const std::vector<SeedStart>& start,
                        const CompareQuantModesOptions& options);

// One mode trained from one seed's start: the loss and layer stats of every step.
struct ModeRun {
  std::string mode;
  int64_t seed = 0, init_seed = 0;
  std::vector<double> losses;
  std::vector<LayerStats> stats;
};

struct CompareQuantModesResult {
  std::vector<ModeRun> runs;  // seed-major, modes in config order
  std::vector<Json> records;  // every record written, in order (steps, finals, then summaries)
};

// Validates, builds (or loads) the start, saves it if asked, truncates the log, trains, and
// writes the reference's console lines to `out`, ending with "[compare] status=passed".
CompareQuantModesResult run_compare_quant_modes(const CompareQuantModesOptions& options,
                                                std::ostream& out);

}  // namespace chimera
