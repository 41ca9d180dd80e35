// The three kinds of network every model family comes in: plain float, or ternary projections
// under the strict BitNet quantizer or Chimera's.
#pragma once

#include <string>

namespace chimera {

enum class ModelMode { fp32_baseline, strict_bitnet, chimera };
ModelMode parse_model_mode(const std::string& s);  // the names model_mode_name gives
const char* model_mode_name(ModelMode m);

}  // namespace chimera
