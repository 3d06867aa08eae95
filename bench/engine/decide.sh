#!/usr/bin/env bash
# Decision time per exec (SPEC §7: p50 under 10 µs, p99 under 50 µs): the live guard's evaluator on the exec
# Claude Code makes for each Bash tool call, `bash -c -l "source SNAPSHOT && eval 'CMD' \< /dev/null && pwd -P
# >| FILE"`, over 32 agent commands, with the embedded default policy, strict.yaml and a baseline whose one rule
# no payload meets (bench/engine/decide/main.swift). In-process, one core, rounds interleaving the policies.
# Usage: bench/engine/decide.sh [BINARY] [extra decision-bench options, e.g. --each]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${1:-$root/.build/release/decision-bench}"
shift || true
[ -x "$bin" ] || { echo "bench/engine/decide.sh: no $bin; build it: swift build -c release --product decision-bench" >&2; exit 2; }
cd "$root"
taskset -c 0 "$bin" --rounds 7 --reps 200 "$@"
