// Settings the program decides in the environment before the libraries it uses start: libgomp
// and OpenBLAS read theirs in their own constructors, before main(). This file is a tiny shared
// library linked last into the program: the loader initialises libraries in the reverse order
// it loaded them (dependencies first), so these constructors run after libc's and before
// libgomp's and OpenBLAS's. A user's own setting is always left as it is.
#include <cstdlib>

namespace {

// How idle OpenMP workers wait. libgomp's default lets a worker spin for a long time (up to
// ~300000 polls) after each parallel region. On an idle machine that is fastest; on a busy one
// two such processes (or one next to any CPU-bound job) keep each other's workers from running,
// and a 0.07 ms GEMV took 8 ms (measured with two `bench kernels` processes on 2 cores).
// OMP_WAIT_POLICY=passive avoids that but sleeps after every region: 2 threads then ran
// ResNet-20 eval no faster than 1. A short spin (GOMP_SPINCOUNT=3000, a few microseconds) keeps
// the idle speed (ResNet-20 train and eval within 3 %, the GEMV equal) and the busy case at
// 0.27 ms.
[[gnu::constructor]] void choose_omp_wait() {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr)
    setenv("GOMP_SPINCOUNT", "3000", 0);
}

// OpenBLAS's kernels. Debian's OpenBLAS 0.3.21 picks its kernels by CPU model and falls back to
// its SSE3 "Prescott" kernels on CPUs newer than it knows (Sapphire Rapids, seen here): float
// GEMM then ran at a third of the speed (the transformer's training step spent half its time in
// sgemm_kernel_PRESCOTT). By feature instead: AVX-512 -> SkylakeX, AVX2 with FMA -> Haswell,
// the kernels OpenBLAS itself uses for those CPUs it knows; older CPUs keep its own choice.
[[gnu::constructor]] void choose_openblas_core() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    setenv("OPENBLAS_CORETYPE", "Haswell", 0);
}

}  // namespace
