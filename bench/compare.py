#!/usr/bin/env python3
"""Per-exec figures of two builds side by side (issue 19): a change's before and after in the same run.

Rounds interleave no tool, execsnoop and, for each build, claude-guard audit and hold+decide on `/bin/true`
(bench/policies/hold.yaml: every exec held) and enforcing the default policy on `git status` (a program rules
name by its arguments). Per row: execbench's median exec (fork→exit→reaped) and the CPU the tool added per exec;
for guarded rows the guard's own exec-to-verdict median and its held count; with kernel.bpf_stats_enabled, the
kernel's handle_exec run time per exec (read inside the guarded tree, so from that guard's programs).

Usage: bench/compare.py BEFORE AFTER [--rounds R] [--execs N] [--only audit]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (execbench, Background, sh)


def guard_run(binary, opts, argv, log, cwd=None, kernel=False):
    """argv under `binary run OPTS`; the summary; with `kernel`, the guard's handle_exec run time per exec, read
    by bpftool from inside the tree (not a timed run: bpftool's CPU would count as the guard's)."""
    stats = log + ".bpf"
    tree = ["bash", "-c", '"$@"; bpftool prog show -j > ' + stats + " 2>/dev/null; exit 0", "bench"] + argv \
        if kernel else argv
    if os.path.exists(log):
        os.unlink(log)
    before = bench.children_cpu()
    r = subprocess.run([binary, "run", "--quiet", "-o", log, *opts, "--"] + tree, cwd=cwd,
                       capture_output=True, text=True)
    cpu = bench.children_cpu() - before
    out = next((json.loads(l) for l in r.stdout.splitlines() if l.startswith('{"n"')), None)
    summary = bench.guard_summary(log)
    run_ns = cnt = 0
    if os.path.exists(stats):
        try:
            progs = json.load(open(stats))
        except ValueError:
            progs = []
        # This guard's program: the newest handle_exec loaded (another guard started meanwhile would blur it).
        mine = max((p for p in progs if p.get("name") == "handle_exec"), key=lambda p: p["id"], default={})
        run_ns, cnt = mine.get("run_time_ns", 0), mine.get("run_cnt", 0)
        os.unlink(stats)
    if out is None:
        raise RuntimeError(f"execbench failed under {binary} {opts}: {r.stdout[-300:]} {r.stderr[-300:]}")
    out["cpu_s"] = cpu
    return out, summary, (run_ns / cnt if cnt else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--execs", type=int, default=1000)
    ap.add_argument("--only", help="guarded rows whose name contains this (e.g. audit), with no tool and execsnoop")
    a = ap.parse_args()
    eb = os.path.join(bench.OUT, "execbench")
    os.makedirs(bench.OUT, exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", eb, os.path.join(HERE, "execbench.c")], check=True)
    hold = os.path.join(HERE, "policies", "hold.yaml")
    repo = tempfile.mkdtemp(prefix="cg-compare-")
    subprocess.run("git init -q && git -c user.email=b@x -c user.name=b commit -q --allow-empty -m x",
                   shell=True, cwd=repo, check=True)
    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=False)
    builds = [("before", os.path.abspath(a.before)), ("after", os.path.abspath(a.after))]
    true = [eb, "count", str(a.execs), "/bin/true"]
    git = [eb, "count", str(a.execs), shutil.which("git"), "status", "--short"]
    rows = [("no tool", None, None, "true"), ("no tool", None, None, "git status")]
    rows.append(("execsnoop (libbpf-tools)", "execsnoop", None, "true"))
    for b, path in builds:
        rows += [(f"{b}: audit", path, ["--audit", "--policy", hold], "true"),
                 (f"{b}: enforce, hold+decide", path, ["--policy", hold], "true"),
                 (f"{b}: enforce, default policy", path, [], "git status")]
    if a.only:
        rows = [r for r in rows if not r[1] or r[1] == "execsnoop" or a.only in r[0]]
        rows = [r for r in rows if r[1] or any(x[3] == r[3] for x in rows if x[1])]
    res = {r[0] + r[3]: [] for r in rows}
    log = os.path.join(repo, "guard.jsonl")
    # The guard's start-up and exit CPU (`run -- true`), taken off its rows' CPU per exec.
    startup = {}
    for name, binary, opts, prog in rows:
        if binary and binary != "execsnoop":
            cpus = []
            for _ in range(3):
                before = bench.children_cpu()
                subprocess.run([binary, "run", "--quiet", "-o", "/dev/null", *opts, "--", "true"], cwd=repo,
                               capture_output=True)
                cpus.append(bench.children_cpu() - before)
            startup[name + prog] = statistics.median(cpus)
    for rnd in range(a.rounds):
        order = rows if rnd % 2 == 0 else list(reversed(rows))
        for name, binary, opts, prog in order:
            argv = true if prog == "true" else git
            key = name + prog
            if binary is None:
                before = bench.children_cpu()
                r = bench.sh(argv, cwd=repo)
                out = json.loads(next(l for l in r.stdout.splitlines() if l.startswith('{"n"')))
                out["cpu_s"] = bench.children_cpu() - before
                res[key].append((out, {}, None, 0.0))
            elif binary == "execsnoop":
                bg = bench.Background(["/usr/sbin/execsnoop"], "PCOMM", settle=0.2)
                before = bench.children_cpu()
                r = bench.sh(argv, cwd=repo)
                out = json.loads(next(l for l in r.stdout.splitlines() if l.startswith('{"n"')))
                out["cpu_s"] = bench.children_cpu() - before
                cpu = bg.cpu_seconds()
                bg.stop()
                res[key].append((out, {}, None, cpu))
            else:
                out, summary, _ = guard_run(binary, opts, argv, log, cwd=repo)
                res[key].append((out, summary, None, 0.0))
        print(f"round {rnd + 1}/{a.rounds} done", file=sys.stderr)
    # The kernel's side, untimed: handle_exec's run time per exec under each guarded row.
    kernel_ns = {}
    for name, binary, opts, prog in rows:
        if binary and binary != "execsnoop":
            argv = true if prog == "true" else git
            kernel_ns[name + prog] = [guard_run(binary, opts, argv, log, repo, kernel=True)[2] for _ in range(2)]

    print(f"{a.rounds} interleaved rounds × {a.execs} execs per row; medians over rounds (spread of the "
          "per-round medians in brackets). Tool CPU: the guard's start-up and exit (`run -- true`: " +
          ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in startup.items()) + ") taken off.\n")
    print("| row | program | median µs (spread) | added median µs | tool CPU µs/exec | exec→verdict median µs "
          "| held per run | handle_exec ns |")
    print("|---|---|---|---|---|---|---|---|")
    for name, binary, opts, prog in rows:
        rs = res[name + prog]
        base = res["no tool" + prog]
        meds = [r[0]["median_us"] for r in rs]
        added = statistics.median(m - b[0]["median_us"] for m, b in zip(meds, base))
        su = startup.get(name + prog, 0.0)
        cpu = statistics.median((r[0]["cpu_s"] - su - b[0]["cpu_s"] + r[3]) / a.execs * 1e6 for r, b in zip(rs, base)) \
            if binary else 0.0
        verdict = [r[1].get("hold_decision_median_us") for r in rs if r[1].get("hold_decision_median_us")]
        held = [r[1].get("held", 0) for r in rs if r[1]]
        kns = [n for n in kernel_ns.get(name + prog, []) if n]
        print(f"| {name} | `{prog}` | {statistics.median(meds):.0f} ({min(meds):.0f}–{max(meds):.0f}) | "
              f"{added:+.0f} | {cpu:.0f} | {statistics.median(verdict):.1f} | " if verdict else
              f"| {name} | `{prog}` | {statistics.median(meds):.0f} ({min(meds):.0f}–{max(meds):.0f}) | "
              f"{added:+.0f} | {cpu:.0f} | – | ", end="")
        print(f"{int(statistics.median(held)) if held else '–'} | {statistics.median(kns):.0f} |" if kns else
              f"{int(statistics.median(held)) if held else '–'} | – |")
    shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    main()
