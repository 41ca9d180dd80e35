#!/usr/bin/env bash
# The main job end to end on a fresh machine: install what is missing (Fashion-MNIST included),
# build, then `chimera ablation`: fp32_baseline, strict_bitnet and chimera on Fashion-MNIST on a
# short schedule (about 10 minutes on 2 cores), exported, timed and tabulated. Extra arguments
# go to `chimera ablation` (e.g. --full, --threads N).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
./build/chimera ablation "$@"
