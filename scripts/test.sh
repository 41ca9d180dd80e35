#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build, run ctest.
# Golden files come from CHIMERA_GOLDEN_DIR (default ../shared/golden).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cd build
ctest --output-on-failure -j2 "$@"
