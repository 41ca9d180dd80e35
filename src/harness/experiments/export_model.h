// `chimera export`: a checkpoint to a deployable model file (model_file.h) with its ternary
// layers packed in one format. The model is the one `eval --checkpoint` builds
// (model_from_checkpoint), so `eval --model` on the file reproduces `eval --checkpoint`.
#pragma once

#include <optional>
#include <string>

#include "harness/log/jsonl.h"

namespace chimera {

struct ExportArgs {
  std::string checkpoint;
  std::string out;
  std::string format = "i2";        // i2 | tq1 | entropy
  std::optional<std::string> mode;  // when the checkpoint does not record it
};

// Writes args.out atomically. The description carries the source checkpoint (path and SHA-256)
// and the checkpoint's "arguments", "config" and "metrics" metadata when present (the data
// arguments rebuild a --synthetic test set). Returns {"out", "format", "bytes",
// "ternary_layers", "float_tensors"}.
Json export_checkpoint(const ExportArgs& args);

}  // namespace chimera
