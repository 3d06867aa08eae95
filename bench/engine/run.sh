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
# Warm-up (page cache, PATH lookups), then 7 rounds on one core, each timing the two configurations in turn
# (interleaved, so that a slow minute of a shared machine slows both alike), reporting each one's best:
#   as shipped      the per-run line cache (an identical line is judged once);
#   line cache off  every line parsed and evaluated in full (--no-line-cache): the evaluator's own speed.
# The two outputs must be identical.
ROUNDS=7
run_once() {
  local file="$1" dest="$2" start end
  shift 2
  start=$(date +%s%N)
  taskset -c 0 "$bin" check --policy "$root/policies/strict.yaml" --workspace /home/agent/project --file "$file" "$@" > "$dest" || true
  end=$(date +%s%N)
  echo $((end - start))
}
report() {
  local label="$1" best="$2" lines="$3"
  local rate
  rate=$(awk -v l="$lines" -v ns="$best" 'BEGIN { printf "%.0f", l / (ns / 1e9) }')
  echo "engine ($label): $lines command lines in $(awk -v ns="$best" 'BEGIN { printf "%.3f", ns / 1e9 }') s (best of $ROUNDS interleaved rounds, 1 core, process start included)"
  echo "engine ($label): $rate command lines/second/core"
}
for c in "$corpus" "$varied"; do
  lines=$(grep -cv '^[[:space:]]*$' "$c")
  distinct=$(grep -v '^[[:space:]]*$' "$c" | sort -u | wc -l)
  name=templated
  [ "$c" = "$varied" ] && name=varied
  run_once "$c" /dev/null > /dev/null
  uncached="" cached=""
  for _ in $(seq "$ROUNDS"); do
    ns=$(run_once "$c" "$out/engine-verdicts-uncached.txt" --no-line-cache)
    if [ -z "$uncached" ] || [ "$ns" -lt "$uncached" ]; then uncached=$ns; fi
    ns=$(run_once "$c" "$out/engine-verdicts.txt")
    if [ -z "$cached" ] || [ "$ns" -lt "$cached" ]; then cached=$ns; fi
  done
  if ! cmp -s "$out/engine-verdicts.txt" "$out/engine-verdicts-uncached.txt"; then
    echo "engine: verdicts differ between configurations ($name corpus)" >&2
    exit 1
  fi
  acted=$(grep -cv '^allow' "$out/engine-verdicts.txt" || true)
  echo "engine: $name corpus, $distinct distinct lines of $lines; $acted lines acted on by strict.yaml"
  report "$name, line cache off" "$uncached" "$lines"
  report "$name, as shipped" "$cached" "$lines"
done
