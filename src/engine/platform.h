// Where a measurement ran, for the first line of every benchmark: the CPU, the path of our
// integer kernels (and the best this CPU offers), the ISA oneDNN uses, the core OpenBLAS chose,
// the thread count, the CPUs the process may run on and how idle OpenMP workers wait.
// Restricting a capable machine to AVX2 (CHIMERA_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2
// OPENBLAS_CORETYPE=Haswell) shows up here.
#pragma once

#include <string>

namespace chimera {

struct Platform {
  std::string cpu;            // /proc/cpuinfo "model name"
  std::string isa;            // active_isa()
  std::string best_isa;       // best_isa(): what the CPU could run
  std::string onednn_isa;     // oneDNN's effective ISA
  std::string openblas_core;  // OpenBLAS's kernel core
  int threads = 1;
  // allowed_cpus(): a run pinned with taskset shows it. On shared VMs one virtual CPU can run
  // much slower than another, so a one-thread comparison pins both programs to the same CPU.
  std::string cpus;
  std::string omp_wait;       // OMP_WAIT_POLICY / GOMP_SPINCOUNT as the process runs with them
};

Platform platform();
// The CPUs this process may run on, as ranges: "0-1", "1", "0,2-3".
std::string allowed_cpus();
// "cpu=... isa=avx2 (cpu best avx512vnni) onednn=avx2 openblas=Haswell threads=1 cpus=0-1
//  OMP_WAIT_POLICY=... GOMP_SPINCOUNT=..."
std::string describe(const Platform& p);

// This process's peak resident memory so far (getrusage), in MB to one decimal: benchmarks report
// it beside their speeds.
double peak_rss_mb();

}  // namespace chimera
