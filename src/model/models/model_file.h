// The deployable model file: what inference needs and nothing else, ternary layers packed.
//
// Layout, integers little-endian:
//   offset  size  field
//        0     8  magic "CHIMODEL"
//        8     4  format version (u32), kModelFileVersion
//       12     4  reserved, 0
//       16     8  header length H (u64)
//       24    32  SHA-256 of the header bytes
//       56     H  header: UTF-8 JSON {"description": {...}, "tensors": [entry, ...]}
//   56 + H        data: the tensors back to back in table order, from offset 0; the file ends
//                 exactly where the last one ends
// A table entry: {"name", "kind": "ternary" | "float32", "shape", "offset", "bytes", "sha256"}
// (offset relative to the data start, sha256 of the tensor's bytes in lower-case hex); a
// ternary entry adds "alpha" (the alpha that produced its codes) and "clip" (the layer's clip
// factor, a float32 value). Every byte of the file is covered by a check: the fixed fields by
// value, the header by its checksum, each tensor by its own.
//
// Tensors:
//   ternary  a ternary layer's weight, the codes q and scale gamma its eval forward uses, in the
//            serialised form of packed_ternary.h (CTRN header with gamma as the scale, payload
//            in i2, tq1 or entropy); the codes are packed as [out, fan_in], "shape" is the
//            layer's weight shape ([out, in, kh, kw] or [out, in])
//   float32  raw float32 values in row-major order: float layers, biases, BatchNorm
//            weight/bias/running_mean/running_var
// BatchNorm is stored as is, never folded into the preceding convolution: a ternary
// convolution's output is (beta * gamma) * clip * acc rounded to float32 before BatchNorm, so a
// folded scale could not reproduce it bit for bit, and even a float convolution's products
// would round differently.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "model/quant/packed_ternary.h"

namespace chimera {

inline constexpr uint32_t kModelFileVersion = 1;
inline constexpr size_t kModelFileHeaderBytes = 56;  // before the JSON header

struct TernaryTensor {
  Shape shape;           // the layer's weight shape
  PackedTernary packed;  // codes as [shape[0], numel / shape[0]], gamma as the scale
  double alpha = 0;
  float clip = 1.0f;
};

struct ModelFile {
  nlohmann::json description = nlohmann::json::object();
  std::vector<std::pair<std::string, TernaryTensor>> ternary;  // in module order
  std::vector<std::pair<std::string, Tensor>> floats;          // f32, in module order
};

std::string serialize_model_file(const ModelFile& file);
// Every check of the layout above; errors name `source` and, for a checksum, the tensor.
ModelFile parse_model_file(const std::string& bytes, const std::string& source);

void write_model_file(const std::string& path, const ModelFile& file);  // atomically
ModelFile read_model_file(const std::string& path);

}  // namespace chimera
