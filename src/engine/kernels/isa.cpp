#include "engine/kernels/isa.h"

#include <cstdlib>

#include "engine/error.h"

namespace chimera {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512vnni:
      return "avx512vnni";
  }
  CHIMERA_FAIL("isa_name: unknown Isa value ", static_cast<int>(isa));
}

bool isa_supported(Isa isa) {
  // libgcc's cpuid probe also checks that the OS saves the ymm/zmm registers (XCR0).
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
      return __builtin_cpu_supports("avx2");
    case Isa::avx512vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

Isa best_isa() {
  for (Isa isa : {Isa::avx512vnni, Isa::avx2})
    if (isa_supported(isa)) return isa;
  return Isa::scalar;
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni})
    if (name == isa_name(isa)) return isa;
  CHIMERA_FAIL("CHIMERA_ISA: unknown instruction set '", name,
               "'; expected one of scalar, avx2, avx512vnni (or unset for the best available)");
}

Isa select_isa(const char* forced) {
  if (forced == nullptr || *forced == '\0') return best_isa();
  const Isa isa = parse_isa(forced);
  CHIMERA_CHECK(isa_supported(isa), "CHIMERA_ISA=", forced,
                ": this CPU does not support it; the best available here is ",
                isa_name(best_isa()));
  return isa;
}

Isa active_isa() {
  static const Isa isa = select_isa(std::getenv("CHIMERA_ISA"));
  return isa;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512vnni})
    if (isa_supported(isa)) isas.push_back(isa);
  return isas;
}

}  // namespace chimera
