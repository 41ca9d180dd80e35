#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build, run ctest.
# Then the same suite again on a second build with AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/), where any report fails the test that caused it (CHIMERA_SANITIZERS=0 skips it;
# it about doubles the time on 2 cores from scratch: 27 min for both passes, 4-5 of them its tests).
# Golden files come from CHIMERA_GOLDEN_DIR (default ../shared/golden).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
(cd build && ctest --output-on-failure -j2 "$@")

if [ "${CHIMERA_SANITIZERS:-1}" = 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DCHIMERA_SANITIZE=ON \
    > build-asan.configure.log 2>&1 || { cat build-asan.configure.log; exit 1; }
  rm -f build-asan.configure.log
  ninja -C build-asan
  # The llama.cpp agreement test needs node-llama-cpp, installed once into build/ by setup.sh.
  ln -sfn ../build/node-llama-cpp build-asan/node-llama-cpp
  # Leaks are reported (detect_leaks=1); the suppression file names the third-party libraries
  # whose start-up allocations LeakSanitizer counts, nothing of ours. The slow unwinder gives
  # whole stacks through libraries built without frame pointers (Open MPI), which the
  # suppressions need; it doubles the tests' time.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:fast_unwind_on_malloc=0"
  export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  (cd build-asan && ctest --output-on-failure -j2 "$@")
fi
