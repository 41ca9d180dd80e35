#!/usr/bin/env bash
# Language-model speed against llama.cpp on the same GGUF file, side by side in alternating
# rounds: llama-bench -p 512 -n 128 and chimera bench lm, 1 and 2 threads, ours native and
# restricted to AVX2, llama.cpp's native and AVX2-only builds. Prints each run's tokens/s and
# then, per configuration, the ratio ours / llama.cpp within each round: median [range].
#
# Usage: scripts/compare_llama_cpp.sh MODEL.gguf LLAMA_BENCH_NATIVE LLAMA_BENCH_AVX2 [rounds=4]
#   LLAMA_BENCH_*: llama-bench binaries built outside this repository (README, "GGUF"), from
#   node-llama-cpp's source bundle: -DGGML_NATIVE=ON, and AVX2 only.
#
# One-thread runs are pinned to one CPU (taskset), the same CPU for both programs within a round,
# alternating between CPUs 0 and 1 from round to round: on the shared VMs we measure on, one
# virtual CPU can run 30 % slower than the other for minutes at a time, and an unpinned pair of
# runs that lands on different CPUs compares the CPUs, not the programs. Our native rows compare
# with the faster of llama.cpp's two builds (its TQ2_0 product has only an AVX2 path), our AVX2
# rows with its AVX2 build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then
  sed -n 2,10p "$0" >&2
  exit 2
fi
MODEL="$1" NATIVE="$2" AVX2="$3" ROUNDS="${4:-4}"
for f in "$MODEL" "$NATIVE" "$AVX2" build/chimera; do
  [ -e "$f" ] || { echo "compare_llama_cpp: $f does not exist" >&2; exit 2; }
done
command -v taskset > /dev/null || { echo "compare_llama_cpp: taskset (util-linux) is missing" >&2; exit 2; }
CPUS=$(nproc)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
build/chimera bench lm --model "$MODEL" --repetitions 1 --prompt-tokens 8 --gen-tokens 2 |
  sed -n 1p
for r in $(seq "$ROUNDS"); do
  for t in 1 2; do
    pin=()
    [ "$t" = 1 ] && pin=(taskset -c $(((r - 1) % CPUS)))
    for build in native avx2; do
      bin="$NATIVE"
      [ "$build" = avx2 ] && bin="$AVX2"
      "${pin[@]}" "$bin" -m "$MODEL" -p 512 -n 128 -t "$t" -r 5 -o jsonl 2> /dev/null |
        sed "s/^/$r $t llama-$build /" >> "$OUT"
    done
    "${pin[@]}" build/chimera bench lm --model "$MODEL" --repetitions 5 --threads "$t" --json |
      grep '^{' | sed "s/^/$r $t ours-native /" >> "$OUT"
    "${pin[@]}" env CHIMERA_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell \
      build/chimera bench lm --model "$MODEL" --repetitions 5 --threads "$t" --json |
      grep '^{' | sed "s/^/$r $t ours-avx2 /" >> "$OUT"
  done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
runs = {}  # (round, threads, who, test) -> tokens/s
for line in open(sys.argv[1]):
    r, t, who, doc = line.split(" ", 3)
    j = json.loads(doc)
    if who.startswith("llama"):
        test = f"pp{j['n_prompt']}" if j["n_prompt"] else f"tg{j['n_gen']}"
        tps = j["avg_ts"]
    else:
        test, tps = j["test"], j["tokens_per_s"]
    runs[(int(r), int(t), who, test)] = tps
rounds = sorted({k[0] for k in runs})
print("round threads test  llama-native llama-avx2 ours-native ours-avx2")
for r in rounds:
    for t in (1, 2):
        for test in ("pp512", "tg128"):
            v = [runs.get((r, t, w, test), float("nan"))
                 for w in ("llama-native", "llama-avx2", "ours-native", "ours-avx2")]
            print(f"{r:5} {t:7} {test}  " + " ".join(f"{x:11.0f}" for x in v))
print("\nours / llama.cpp within each round: median [min-max]")
for isa in ("native", "avx2"):
    for t in (1, 2):
        for test in ("pp512", "tg128"):
            ratios = []
            for r in rounds:
                ours = runs.get((r, t, f"ours-{isa}", test))
                peers = [runs.get((r, t, b, test)) for b in
                         (("llama-native", "llama-avx2") if isa == "native" else ("llama-avx2",))]
                peers = [p for p in peers if p]
                if ours and peers:
                    ratios.append(ours / max(peers))
            if ratios:
                print(f"ours {isa:6} {t} thread(s) {test}: {statistics.median(ratios):.2f}x "
                      f"[{min(ratios):.2f}-{max(ratios):.2f}] over {len(ratios)} rounds")
PY
