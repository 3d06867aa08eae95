#!/usr/bin/env bash
# `make bench`: installs the peers (Debian packages), then runs every benchmark side by side.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
missing=""
for p in libbpf-tools bpftrace auditd; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null || \
		echo "bench: could not install$missing; those peers are skipped" >&2
fi
bin="${BIN:-$here/../.build/release/claude-guard}"
python3 "$here/run.py" "$bin" "$@"
# File rules: a build in the workspace with and without them, and the kernel time per file call.
python3 "$here/files/run.py" "$bin" | tee "$here/out/files.md"
# HTTPS capture: a local 1 MiB transfer and a small request with and without the SSL probes.
bash "$here/ssl/run.sh" | tee "$here/out/ssl.md"
# The evaluator's decision time per exec on Claude-Code-shaped payloads.
bash "$here/engine/decide.sh" | tee "$here/out/decide.md"
# The Claude Code hook: wall time per call, as Claude Code spawns it.
python3 "$here/hook/run.py" "$bin" | tee "$here/out/hook.md"
# Real work (issue 19): a C build, a shell script and a Claude-Code-shaped agent session, per tool.
python3 "$here/workloads/run.py" "$bin" | tee "$here/out/workloads.md"
