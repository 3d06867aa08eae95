#!/usr/bin/env bash
# HTTPS capture cost (root): a 1 MiB local HTTPS transfer and a small request, each through python3 (shared
# libssl), with no capture, with the capture following the client, and with the capture attached while the
# client is outside the guarded tree; per-run kernel time of the probes (kernel.bpf_stats_enabled); and the
# machine's own price of a uprobe and a uretprobe trap (perf probe on a trivial function), which bounds what
# any uprobe-based TLS capture can cost per SSL call. Drives the capture type directly (the IntegrationTests
# target) until the CLI wires -S; prints a markdown table.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
swift build --build-tests >/dev/null
CG_SSL_BENCH=1 CG_SSL_BENCH_ROUNDS="${ROUNDS:-7}" swift test --skip-build --disable-swift-testing \
	--filter SSLCaptureBench 2>&1 | sed -n 's/^BENCH //p'
if command -v perf >/dev/null && command -v cc >/dev/null; then
	tmp="$(mktemp -d)"
	trap 'perf probe -q -d "probe_uprobe_cost:*" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
	cc -O2 -o "$tmp/uprobe_cost" "$here/uprobe_cost.c"
	bare=$("$tmp/uprobe_cost")
	perf probe -x "$tmp/uprobe_cost" target >/dev/null 2>&1
	entry=$(perf stat -e 'probe_uprobe_cost:*' "$tmp/uprobe_cost" 2>/dev/null)
	perf probe -d 'probe_uprobe_cost:*' >/dev/null 2>&1
	perf probe -x "$tmp/uprobe_cost" 'target%return' >/dev/null 2>&1
	ret=$(perf stat -e 'probe_uprobe_cost:*' "$tmp/uprobe_cost" 2>/dev/null)
	echo
	echo "uprobe trap on this machine (perf, trivial function): call ${bare} µs bare, ${entry} µs with a uprobe, ${ret} µs with a uretprobe"
fi
