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
varied="$out/engine-corpus-varied-$count.txt"
[ -s "$corpus" ] || python3 "$here/gen_corpus.py" "$count" > "$corpus"
[ -s "$varied" ] || python3 "$here/gen_corpus.py" --varied "$count" > "$varied"
# Warm-up (page cache, PATH lookups), then the best of 5 timed runs on one core; once as shipped (identical lines
# answered from the per-run line cache) and once with --no-line-cache (every line parsed and evaluated).
best_of_5() {
  local file="$1"
  shift
  taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --workspace /home/agent/project --file "$file" "$@" > /dev/null || true
  local best="" start end ns
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --workspace /home/agent/project --file "$file" "$@" > "$out/engine-verdicts.txt" || true
    end=$(date +%s%N)
    ns=$((end - start))
    if [ -z "$best" ] || [ "$ns" -lt "$best" ]; then best=$ns; fi
  done
  echo "$best"
}
report() {
  local label="$1" best="$2" lines="$3"
  local rate
  rate=$(awk -v l="$lines" -v ns="$best" 'BEGIN { printf "%.0f", l / (ns / 1e9) }')
  echo "engine ($label): $lines command lines in $(awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }') s (best of 5, 1 core, process start included)"
  echo "engine ($label): $rate command lines/second/core"
}
for c in "$corpus" "$varied"; do
  lines=$(grep -cv '^[[:space:]]*$' "$c")
  distinct=$(grep -v '^[[:space:]]*$' "$c" | sort -u | wc -l)
  name=templated
  [ "$c" = "$varied" ] && name=varied
  uncached=$(best_of_5 "$c" --no-line-cache)
  cp "$out/engine-verdicts.txt" "$out/engine-verdicts-uncached.txt"
  cached=$(best_of_5 "$c")
  if ! cmp -s "$out/engine-verdicts.txt" "$out/engine-verdicts-uncached.txt"; then
    echo "engine: verdicts differ with and without the line cache ($name corpus)" >&2
    exit 1
  fi
  acted=$(grep -cv '^allow' "$out/engine-verdicts.txt" || true)
  echo "engine: $name corpus, $distinct distinct lines of $lines; $acted lines acted on by strict.yaml"
  report "$name, line cache off" "$uncached" "$lines"
  report "$name, line cache on" "$cached" "$lines"
done
