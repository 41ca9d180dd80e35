#!/usr/bin/env bash
# ctest install.*: cmake --install of BUILD into a fresh prefix, then a consumer project built
# against it with find_package(Chimera) and run on a golden file, and the installed program and
# Python module run from the prefix. Usage: test_install.sh BUILD_DIR CONSUMER_SOURCE_DIR
set -euo pipefail
BUILD="$1" CONSUMER="$2"
GOLDEN="${CHIMERA_GOLDEN_DIR:-${CHIMERA_DEFAULT_GOLDEN_DIR:?}}"
WORK="$(mktemp -d /tmp/chimera_install.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
test -x "$WORK/prefix/bin/chimera"
test -f "$WORK/prefix/include/chimera/engine/tensor.h"
test ! -e "$WORK/prefix/include/chimera/harness"  # the program's own code is not public
test ! -e "$WORK/prefix/include/chimera/engine/kernels/i2t_gemm_ukernels.h"
cmake -S "$CONSUMER" -B "$WORK/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$WORK/prefix" > "$WORK/configure.log" || { cat "$WORK/configure.log"; exit 1; }
ninja -C "$WORK/consumer" > "$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }
"$WORK/consumer/consumer" "$GOLDEN" | tee "$WORK/out.txt"
grep -qx "consumer ok" "$WORK/out.txt"
"$WORK/prefix/bin/chimera" --version | grep -q "^chimera "
if [ -n "${PYTHON:-}" ]; then
  SITE="$(ls -d "$WORK"/prefix/lib/python3*/dist-packages)"
  (cd "$WORK" && PYTHONPATH="$SITE" "$PYTHON" -c \
    "import chimera, os; assert chimera.__file__.startswith('$SITE'), chimera.__file__; print('python', chimera.__version__)")
fi
echo "install ok"
