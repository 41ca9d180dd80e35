// `chimera inspect`: what a model file holds and what its storage costs, per tensor and in total.
#pragma once

#include <string>

#include "harness/log/jsonl.h"

namespace chimera {

// Reads and checks the file (checksums, every packed payload decoded). Returns
//   {"file", "file_bytes", "format_version", "description",
//    "ternary": [{"name", "shape", "weights", "zero_ratio", "effective_bits" (entropy of the
//                 codes), "bits_per_weight" (payload bytes * 8 / weights), "payload_bytes",
//                 "bytes" (with the 40-byte packed header), "compression_vs_f32" (4 * weights /
//                 bytes), "gamma", "alpha"}],
//    "float": [{"name", "shape", "values", "bytes"}],
//    "totals": {"ternary_weights", "effective_bits" (entropy of all codes together),
//               "layer_effective_bits" (the layers' entropies weighted by size: what a
//               per-tensor entropy coder can reach), "bits_per_weight", "ternary_payload_bytes",
//               "ternary_bytes", "float_values", "float_bytes", "header_bytes", "file_bytes",
//               "float32_bytes" (every value as float32), "compression_vs_f32"}}
Json inspect_model(const std::string& path);

// The report as a table for people.
std::string format_inspect(const Json& report);

// A GGUF file (ours or llama.cpp's tools'), read and checked as `generate --model` reads it:
//   {"file", "file_bytes", "format": "gguf", "architecture", "name",
//    "model": {"dim", "layers", "heads", "kv_heads", "ffn_dim", "context"} (those present),
//    "tokenizer": {"kind" ("bytes", "spm"), "vocab_size", "bos", "eos"} or {"error"},
//    "tensors": [{"name", "type", "shape" (innermost first, as GGUF lists it), "values",
//                 "bytes", "bits_per_weight", and for TQ1_0 / TQ2_0 "zero_ratio",
//                 "effective_bits"}],
//    "totals": {"tensors", "values", "tensor_bytes", "ternary_weights", "zero_ratio",
//               "effective_bits" (entropy of all ternary codes together), "by_type": {TYPE:
//               {"tensors", "values", "bytes"}}},
//    "runs_here": bool, "why" (when it does not: the loader's message)}
// A file the GGUF reader refuses is an error, as for every command.
Json inspect_gguf(const std::string& path);
std::string format_inspect_gguf(const Json& report);

}  // namespace chimera
