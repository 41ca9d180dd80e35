// Run-time instruction-set choice for the integer kernels, made once per process.
// The scalar path is always built and always available; it is the oracle the others are
// tested against. CHIMERA_ISA=scalar|avx2|avx512vnni forces a path (read once, at first use).
#pragma once

#include <string_view>
#include <vector>

namespace chimera {

enum class Isa { scalar, avx2, avx512vnni };

const char* isa_name(Isa isa);  // "scalar", "avx2", "avx512vnni"
bool isa_supported(Isa isa);    // cpuid (and OS register-state support) on this machine
Isa best_isa();                 // the fastest supported path
std::vector<Isa> supported_isas();  // every path this machine runs, scalar first

// "avx2" -> Isa::avx2; an unknown name throws, listing the valid ones.
Isa parse_isa(std::string_view name);
// The choice active_isa() makes: best_isa() when `forced` is null or empty, else the parsed
// name, which must be supported here (throws otherwise).
Isa select_isa(const char* forced);
// select_isa(getenv("CHIMERA_ISA")), decided at the first call and fixed afterwards.
Isa active_isa();

}  // namespace chimera
