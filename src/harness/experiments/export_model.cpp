#include "harness/experiments/export_model.h"

#include "engine/io/atomic_file.h"
#include "harness/experiments/eval_checkpoint.h"
#include "harness/experiments/lm_inference.h"
#include "model/models/resnet20_file.h"

namespace chimera {

Json export_checkpoint(const ExportArgs& a) {
  CHIMERA_CHECK(!a.checkpoint.empty(), "--checkpoint is required");
  CHIMERA_CHECK(!a.out.empty(), "--out is required");
  PackFormat format;
  try {
    format = pack_format_from_name(a.format);
  } catch (const Error& e) {
    CHIMERA_FAIL("--format: ", e.what());
  }
  const Checkpoint c = load_checkpoint(a.checkpoint);
  Json extra = {
      {"source", {{"checkpoint", a.checkpoint}, {"sha256", sha256_hex(read_file(a.checkpoint))}}}};
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
