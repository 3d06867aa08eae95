#!/usr/bin/env bash
# Engine benchmark: times `claude-guard check --policy policies/strict.yaml --file corpus` on a generated
# corpus of 100,000 agent command lines and prints command lines per second per core (single-threaded).
# Usage: bench/engine/run.sh BINARY [COUNT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:?usage: run.sh BINARY [COUNT]}"
count="${2:-100000}"
out="${root}/bench/out"
mkdir -p "$out"
corpus="$out/engine-corpus-$count.txt"
[ -s "$corpus" ] || python3 "$here/gen_corpus.py" "$count" > "$corpus"
lines=$(grep -cv '^[[:space:]]*$' "$corpus")
# Warm-up (page cache, PATH lookups), then the best of 5 timed runs on one core.
taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --file "$corpus" > /dev/null || true
best=""
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --file "$corpus" > "$out/engine-verdicts.txt" || true
  end=$(date +%s%N)
  ns=$((end - start))
  if [ -z "$best" ] || [ "$ns" -lt "$best" ]; then best=$ns; fi
done
acted=$(grep -cv '^allow' "$out/engine-verdicts.txt" || true)
rate=$(awk -v l="$lines" -v ns="$best" 'BEGIN { printf "%.0f", l / (ns / 1e9) }')
echo "engine: $lines command lines in $(awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }') s (best of 5, 1 core, process start included)"
echo "engine: $acted lines acted on by strict.yaml"
echo "engine: $rate command lines/second/core"
