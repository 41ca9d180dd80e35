#!/usr/bin/env bash
# The README's results table: fp32_baseline, strict_bitnet and chimera (sparse control at 1.32
# bits), each with --activation-grad ste and none, on the learnable synthetic dataset.
# Usage: scripts/results.sh [epochs] [threads]   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-3}"
THREADS="${2:-2}"
DATA=outputs/data/shapes
OUT=outputs/results
mkdir -p "$OUT"
[ -f "$DATA/test_batch.bin" ] ||
  ./build/chimera make-dataset synthetic-cifar --out "$DATA" --train 10000 --test 2000 --seed 0
common=(--dataset-root "$DATA" --epochs "$EPOCHS" --batch-size 128 --eval-batch-size 500
        --lr-schedule cosine --threads "$THREADS" --seed 7 --no-progress --save-checkpoint
        --checkpoint-dir "$OUT")
for grad in ste none; do
  ./build/chimera train-resnet "${common[@]}" --mode fp32_baseline --optimizer sgd --lr 0.05 \
    --activation-grad "$grad" --run-name "fp32_baseline_$grad" --log-jsonl "$OUT/fp32_baseline_$grad.jsonl"
  ./build/chimera train-resnet "${common[@]}" --mode strict_bitnet --optimizer chimera21 --lr 0.002 \
    --activation-grad "$grad" --run-name "strict_bitnet_$grad" --log-jsonl "$OUT/strict_bitnet_$grad.jsonl"
  ./build/chimera train-resnet "${common[@]}" --mode chimera --optimizer chimera21 --lr 0.002 \
    --target-bits 1.32 --target-branch sparse --controller-frequency batch \
    --controller-affects alpha_override \
    --activation-grad "$grad" --run-name "chimera_$grad" --log-jsonl "$OUT/chimera_$grad.jsonl"
done
