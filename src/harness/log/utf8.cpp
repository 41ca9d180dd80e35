#include "harness/log/utf8.h"

#include <cstdint>

namespace chimera {

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    int extra;
    uint32_t cp, min;
    if (b < 0x80) { ++i; continue; }
    if ((b & 0xe0) == 0xc0) { extra = 1; cp = b & 0x1f; min = 0x80; }
    else if ((b & 0xf0) == 0xe0) { extra = 2; cp = b & 0x0f; min = 0x800; }
    else if ((b & 0xf8) == 0xf0) { extra = 3; cp = b & 0x07; min = 0x10000; }
    else return false;
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace chimera
