// How idle OpenMP workers wait, decided by the program before OpenMP starts.
//
// libgomp's default lets a worker spin for a long time (up to ~300000 polls) after each parallel
// region. On an idle machine that is fastest; on a busy one two such processes (or one next to
// any CPU-bound job) keep each other's workers from running, and a 0.07 ms GEMV took 8 ms
// (measured with two `bench kernels` processes on 2 cores). OMP_WAIT_POLICY=passive avoids that
// but sleeps after every region: 2 threads then ran ResNet-20 eval no faster than 1. A short
// spin (GOMP_SPINCOUNT=3000, a few microseconds) keeps the idle speed (ResNet-20 train and eval
// within 3 %, the GEMV equal) and the busy case at 0.27 ms. A user's own OMP_WAIT_POLICY or
// GOMP_SPINCOUNT is left as it is.
//
// libgomp reads its settings in its own constructor, before main(), from the environment that
// libc's initialisation sets up. This file is a tiny shared library linked last into the
// program: the loader initialises libraries in the reverse order it loaded them (dependencies
// first), so this constructor runs after libc's and before libgomp's.
#include <cstdlib>

namespace {

[[gnu::constructor]] void choose_omp_wait() {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr)
    setenv("GOMP_SPINCOUNT", "3000", 0);
}

}  // namespace
