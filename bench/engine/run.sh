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
# Warm-up (page cache, PATH lookups), then the best of 5 timed runs on one core, in three configurations:
#   as shipped      the prefilter (plain lines proved allowed from their bytes) and the per-run line cache;
#   line cache off  the prefilter, every line judged afresh (--no-line-cache): the engine's own speed;
#   evaluator only  neither (--no-line-cache --no-prefilter): every line parsed and evaluated in full.
# The three outputs must be identical.
best_of_5() {
  local file="$1" dest="$2"
  shift 2
  taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --workspace /home/agent/project --file "$file" "$@" > /dev/null || true
  local best="" start end ns
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --workspace /home/agent/project --file "$file" "$@" > "$dest" || true
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
  full=$(best_of_5 "$c" "$out/engine-verdicts-evaluator.txt" --no-line-cache --no-prefilter)
  uncached=$(best_of_5 "$c" "$out/engine-verdicts-uncached.txt" --no-line-cache)
  cached=$(best_of_5 "$c" "$out/engine-verdicts.txt")
  for f in engine-verdicts-uncached.txt engine-verdicts-evaluator.txt; do
    if ! cmp -s "$out/engine-verdicts.txt" "$out/$f"; then
      echo "engine: verdicts differ between configurations ($name corpus, $f)" >&2
      exit 1
    fi
  done
  acted=$(grep -cv '^allow' "$out/engine-verdicts.txt" || true)
  echo "engine: $name corpus, $distinct distinct lines of $lines; $acted lines acted on by strict.yaml"
  report "$name, evaluator only" "$full" "$lines"
  report "$name, line cache off" "$uncached" "$lines"
  report "$name, as shipped" "$cached" "$lines"
done
