#!/usr/bin/env bash
# ResNet-20 throughput against the PyTorch yardstick, side by side in alternating rounds:
# chimera bench resnet and ../shared/reference/torch_resnet20_bench.py, fp32_baseline and chimera
# (ste), train and eval, medians over the rounds and the ratios ours / PyTorch.
# Usage: scripts/compare_torch.sh [rounds=3] [threads=1] [batch=128] [avx2]
#   avx2: restrict both to AVX2 (CHIMERA_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2
#         OPENBLAS_CORETYPE=Haswell; PyTorch: ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2)
# Needs a build (scripts/setup.sh) and Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}" THREADS="${2:-1}" BATCH="${3:-128}" RESTRICT="${4:-}"
OURS_ENV=() TORCH_ENV=()
if [ "$RESTRICT" = avx2 ]; then
  OURS_ENV=(CHIMERA_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell)
  TORCH_ENV=(ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2)
fi
PY=/usr/bin/python3  # Debian's interpreter, where python3-torch lives
OUT=$(mktemp -d)
env "${OURS_ENV[@]}" build/chimera bench resnet --threads "$THREADS" --batch 8 --steps 1 \
  --modes chimera | head -1
for r in $(seq "$ROUNDS"); do
  env "${OURS_ENV[@]}" build/chimera bench resnet --json --threads "$THREADS" --batch "$BATCH" \
    --modes fp32_baseline chimera >> "$OUT/ours.jsonl"
  env "${TORCH_ENV[@]}" "$PY" ../shared/reference/torch_resnet20_bench.py --threads "$THREADS" \
    --batch "$BATCH" --grad ste --modes fp32_baseline,chimera >> "$OUT/torch.jsonl"
done
"$PY" - "$OUT" <<'PY'
import json, statistics, sys
d = sys.argv[1]
def load(name):
    rows = {}
    for line in open(f"{d}/{name}.jsonl"):
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        rows.setdefault(r["mode"], []).append(r)
    return rows
ours, torch = load("ours"), load("torch")
med = lambda rows, k: statistics.median(r[k] for r in rows)
print(f"{'mode':14} {'':6} {'ours img/s':>11} {'torch img/s':>12} {'ours/torch':>11}")
for mode in ("fp32_baseline", "chimera"):
    for k, name in (("train_images_per_s", "train"), ("eval_images_per_s", "eval")):
        o, t = med(ours[mode], k), med(torch[mode], k)
        print(f"{mode:14} {name:6} {o:11.1f} {t:12.1f} {o / t:11.2f}")
ce, fe = med(ours["chimera"], "eval_images_per_s"), med(ours["fp32_baseline"], "eval_images_per_s")
print(f"chimera eval / our fp32 eval: {ce / fe:.2f}  (rounds: {len(ours['chimera'])})")
PY
rm -rf "$OUT"
