#!/usr/bin/env bash
# The main job end to end on a fresh machine: install what is missing, build, run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
./build/chimera smoke "$@"
