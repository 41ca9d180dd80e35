// The reference's benchmark records (SPEC §6) and their console lines ("[prefix] key=value").
#pragma once

#include <optional>
#include <string>

#include "harness/experiments/config.h"
#include "harness/log/jsonl.h"
#include "model/layers/bit_layer.h"

namespace chimera {

struct RecordContext {
  std::string run_id, script, mode;
  int64_t seed = 0, init_seed = 0;
  double lr = 0;
  std::string optimizer_name = "chimera21";
  std::optional<double> target_bits;
};

// The fields every benchmark record has; record_type is one of step, batch, epoch, eval,
// final, summary.
Json benchmark_record(const RecordContext& ctx, const Config& config, const std::string& record_type,
                      int64_t step, double loss, const LayerStats& stats);

std::string format_step_record(const std::string& prefix, const Json& record);
std::string format_final_record(const std::string& prefix, const Json& record);
std::string format_summary_record(const std::string& prefix, const Json& record);

}  // namespace chimera
