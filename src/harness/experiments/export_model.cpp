#include "harness/experiments/export_model.h"

#include <filesystem>

#include "engine/io/atomic_file.h"
#include "engine/io/mapped_file.h"
#include "engine/io/sha256.h"
#include "harness/experiments/eval_checkpoint.h"
#include "harness/experiments/lm_inference.h"
#include "model/models/resnet20_file.h"
#include "model/models/transformer_lm_gguf.h"

namespace chimera {

namespace {

// A language model for llama.cpp (transformer_lm_gguf.h): refused with an error before anything
// is written when llama.cpp cannot represent it.
Json export_gguf(const ExportArgs& a) {
  GgmlType type;
  if (a.format == "gguf-tq2_0")
    type = GgmlType::tq2_0;
  else if (a.format == "gguf-tq1_0")
    type = GgmlType::tq1_0;
  else if (a.format == "gguf-f32")
    type = GgmlType::f32;
  else
    CHIMERA_FAIL("--format ", a.format, ": the GGUF formats are gguf-tq2_0, gguf-tq1_0 and gguf-f32");
  const Checkpoint c = load_checkpoint(a.checkpoint);
  CHIMERA_CHECK(is_lm_checkpoint(c), "--format ", a.format, ": '", a.checkpoint,
                "' is not a language model; GGUF export is for train-lm checkpoints");
  auto model = lm_from_checkpoint(c, a.checkpoint);
  std::string name = std::filesystem::path(a.checkpoint).stem().string();
  const GgufFile file = transformer_lm_to_gguf(*model, type, name);
  const std::string bytes = serialize_gguf(file);
  write_file_atomic(a.out, bytes);
  return {{"out", a.out}, {"format", a.format}, {"bytes", bytes.size()},
          {"tensors", file.tensors.size()}};
}

}  // namespace

Json export_checkpoint(const ExportArgs& a) {
  CHIMERA_CHECK(!a.checkpoint.empty(), "--checkpoint is required");
  CHIMERA_CHECK(!a.out.empty(), "--out is required");
  if (a.format.rfind("gguf-", 0) == 0) return export_gguf(a);
  PackFormat format;
  try {
    format = pack_format_from_name(a.format);
  } catch (const Error& e) {
    CHIMERA_FAIL("--format: ", e.what());
  }
  // Mapped once: the same bytes are parsed and hashed (a train-lm checkpoint is half a GB).
  const MappedFile source = map_file(a.checkpoint);
  const Checkpoint c = parse_checkpoint(source.bytes(), a.checkpoint, source.owner);
  Json extra = {{"source",
                 {{"checkpoint", a.checkpoint}, {"sha256", sha256_hex(source.data, source.size)}}}};
  for (const char* key : {"arguments", "config", "metrics"})
    if (c.metadata.contains(key)) extra[key] = c.metadata.at(key);
  // A train-lm checkpoint says so in its metadata; anything else is a ResNet-20.
  const ModelFile file = is_lm_checkpoint(c)
                             ? export_lm(c, a.checkpoint, format, extra)
                             : export_resnet20(*model_from_checkpoint(c, a.mode), format, extra);
  const std::string bytes = serialize_model_file(file);
  write_file_atomic(a.out, bytes);
  return {{"out", a.out},
          {"format", pack_format_name(format)},
          {"bytes", bytes.size()},
          {"ternary_layers", file.ternary.size()},
          {"float_tensors", file.floats.size()}};
}

}  // namespace chimera
