#!/usr/bin/env bash
# Runs one fuzz target under libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer.
# Usage: scripts/fuzz.sh TARGET SECONDS    e.g. scripts/fuzz.sh fuzz_packed 300
#        FUZZ_RUNS=1000000 scripts/fuzz.sh TARGET SECONDS   also stops after that many inputs
# TARGET is a tests/fuzz/*.cpp name. Needs clang (apt-get install clang libomp-dev) and the
# normal build (scripts/setup.sh), whose replay program writes the seed corpus. The sanitized
# libFuzzer build goes to build-fuzz/; the corpus grows in build-fuzz/corpus/TARGET; a crash,
# hang or leak is written to build-fuzz/artifacts/TARGET/ — copy it into
# tests/fuzz/regressions/TARGET/ once fixed, so ctest replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:?usage: scripts/fuzz.sh TARGET SECONDS}"
SECONDS_TO_RUN="${2:?usage: scripts/fuzz.sh TARGET SECONDS}"
[ -f "tests/fuzz/$TARGET.cpp" ] || { echo "no tests/fuzz/$TARGET.cpp" >&2; exit 2; }
command -v clang++ > /dev/null || { echo "clang++ not found: apt-get install clang libomp-dev" >&2; exit 2; }
[ -x "build/$TARGET" ] || { echo "build/$TARGET missing: run scripts/setup.sh first" >&2; exit 2; }

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCHIMERA_LIBFUZZER=ON > build-fuzz.configure.log 2>&1 || { cat build-fuzz.configure.log; exit 1; }
  rm -f build-fuzz.configure.log
fi
ninja -C build-fuzz "$TARGET"

CORPUS="build-fuzz/corpus/$TARGET"
ARTIFACTS="build-fuzz/artifacts/$TARGET"
mkdir -p "$CORPUS" "$ARTIFACTS"
"build/$TARGET" --write-seeds="$CORPUS"
if [ -d "tests/fuzz/regressions/$TARGET" ]; then cp "tests/fuzz/regressions/$TARGET"/* "$CORPUS"/; fi
# -rss_limit_mb: an input that makes a parser allocate more than this is a finding (a size claim
# believed before it was checked); -timeout: one input running longer is a hang.
"build-fuzz/$TARGET" "$CORPUS" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  -malloc_limit_mb=1024 -artifact_prefix="$ARTIFACTS/" -print_final_stats=1 \
  ${FUZZ_RUNS:+-runs=$FUZZ_RUNS}
