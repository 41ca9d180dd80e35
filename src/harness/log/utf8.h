// Text that goes into JSON (records, checkpoint metadata) must be valid UTF-8: nlohmann::json
// refuses anything else when it writes, which would end a run at its last step.
#pragma once

#include <string_view>

namespace chimera {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace chimera
