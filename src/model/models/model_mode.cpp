#include "model/models/model_mode.h"

#include "engine/error.h"

namespace chimera {

ModelMode parse_model_mode(const std::string& s) {
  if (s == "fp32_baseline") return ModelMode::fp32_baseline;
  if (s == "strict_bitnet") return ModelMode::strict_bitnet;
  if (s == "chimera") return ModelMode::chimera;
  CHIMERA_FAIL("mode must be 'fp32_baseline', 'strict_bitnet' or 'chimera', got '", s, "'");
}

const char* model_mode_name(ModelMode m) {
  switch (m) {
    case ModelMode::fp32_baseline:
      return "fp32_baseline";
    case ModelMode::strict_bitnet:
      return "strict_bitnet";
    case ModelMode::chimera:
      return "chimera";
  }
  return "?";
}

}  // namespace chimera
