#!/usr/bin/env python3
"""claude-guard benchmarks, side by side in one run (see bench/README.md).

exec overhead: execbench forks+execs /bin/true (and `sh -c true`) N times per round; rounds interleave the
tools (none, claude-guard audit / enforce-hold / enforce-kernel / outside the guarded tree, execsnoop,
bpftrace, auditd) so drift hits all alike. Then the exec storm, start-up time, memory and the engine.
Usage: bench/run.py BINARY [--rounds R] [--execs N] [--storm-seconds S] [--otlp-storm-only]
"""
import argparse, json, os, resource, signal, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")


def guard_summary(path):
    """The last `summary` record of a guard's JSON Lines output ({} when there is none)."""
    summary = {}
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") == "summary":
                summary = o
    return summary


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=False, capture_output=True, text=True, **kw)


def wait_for(path, needle, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(path, errors="replace") as f:
                if needle in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    return False


class Background:
    """A tool started in the background; ready when `needle` shows in its output; stopped by PID."""

    def __init__(self, argv, needle, settle=0.0, env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="cgbench-", suffix=".log", delete=False).name
        self.proc = subprocess.Popen(argv, stdout=open(self.log, "w"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.ok = wait_for(self.log, needle) if needle else True
        time.sleep(settle)

    def cpu_seconds(self):
        """CPU time (user + system) the tool used so far, from /proc."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with open(self.log, errors="replace") as f:
            text = f.read()
        os.unlink(self.log)
        return text


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def execbench(args, wrap=None):
    """Runs execbench (inside the guard when wrapped); adds the CPU seconds it and the guard used."""
    cmd = (wrap or []) + [os.path.join(OUT, "execbench")] + args
    before = children_cpu()
    r = sh(cmd)
    cpu = children_cpu() - before
    for line in r.stdout.splitlines():
        if line.startswith("{\"n\"") or line.startswith("{\"execs\""):
            out = json.loads(line)
            out["cpu_s"] = cpu
            return out
    raise RuntimeError(f"execbench failed: {cmd}\n{r.stdout}\n{r.stderr}")


def otlp_storm(guard, policy, seconds, workers):
    """The exec storm with --otlp to a local receiver that answers 200 and discards (Tests/Fixtures/otlp): kernel
    events lost, records sent and dropped, and export throughput (records the collector accepted per second)."""
    out = os.path.join(OUT, "guard-otlp-events.jsonl")
    if os.path.exists(out):
        os.unlink(out)
    receiver = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests", "Fixtures", "otlp", "receiver.py"),
                                 "--discard"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    ready = receiver.stdout.readline().split()
    if len(ready) != 2 or ready[0] != "READY":
        receiver.kill()
        receiver.wait()
        return ["", f"OTLP storm skipped: the receiver did not start ({' '.join(ready)})"]
    url = f"http://127.0.0.1:{ready[1]}"
    storm = execbench(["storm", str(seconds), str(workers), "/bin/true"],
                      [guard, "run", "--quiet", "-o", out, "--policy", policy, "--otlp", url, "--"])
    receiver.send_signal(signal.SIGTERM)
    got = json.loads(receiver.stdout.readline() or "{}")
    receiver.wait()
    summary = guard_summary(out)
    received = summary.get("execs", 0)
    sent = summary.get("otlp_sent", 0)
    run_s = summary.get("duration_ms", 0) / 1000 or seconds
    return ["", "| exec storm with --otlp (local receiver, protobuf) | value |", "|---|---|",
            f"| workers × seconds | {workers} × {seconds:g} |",
            f"| execs done | {storm['execs']} ({storm['execs'] / seconds:.0f}/s) |",
            f"| exec events received | {received} |",
            f"| lost events (kernel count) | {summary.get('lost', 'n/a')} |",
            f"| missed decisions (timeouts + unreported) | "
            f"{summary.get('hold_timeouts', 0) + max(0, storm['execs'] + 1 - received)} |",
            f"| records sent / dropped (before the summary) | {sent} / {summary.get('otlp_dropped', 'n/a')} |",
            f"| export throughput | {sent / run_s:.0f} records/s ({got.get('requests', 0)} requests, "
            f"{got.get('bytes', 0) / max(sent, 1):.0f} bytes/record) |",
            f"| guard CPU (user+sys, s) | {storm['cpu_s']:.1f} (the storm's too) |",
            f"| guard peak RSS | {summary.get('peak_rss_kb', 0) / 1024:.1f} MiB |"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--execs", type=int, default=1000)
    ap.add_argument("--storm-seconds", type=float, default=10)
    ap.add_argument("--otlp-storm-only", action="store_true", help="only the exec storm with and without --otlp")
    a = ap.parse_args()
    guard = os.path.abspath(a.binary)
    os.makedirs(OUT, exist_ok=True)
    sh(["cc", "-O2", "-o", os.path.join(OUT, "execbench"), os.path.join(HERE, "execbench.c")])
    hold = os.path.join(HERE, "policies", "hold.yaml")
    kernel = os.path.join(HERE, "policies", "kernel.yaml")
    guard_json = os.path.join(OUT, "guard-events.jsonl")
    if a.otlp_storm_only:
        print("\n".join(otlp_storm(guard, kernel, a.storm_seconds, os.cpu_count() or 2)))
        return

    def in_guard(*opts):
        return [guard, "run", "--quiet", "-o", guard_json, *opts, "--"]

    notes = []
    have = {t: os.path.exists(p) for t, p in
            [("execsnoop", "/usr/sbin/execsnoop"), ("bpftrace", "/usr/bin/bpftrace"), ("auditd", "/usr/sbin/auditd")]}
    for t, ok in have.items():
        if not ok:
            notes.append(f"{t}: not installed, skipped")

    # Each mode: (name, setup -> (wrap, teardown)).
    # Each mode's setup returns (wrap, teardown); teardown returns the CPU seconds a background tool used.
    def none():
        return None, lambda: 0.0

    def guarded(*opts):
        return lambda: (in_guard(*opts), lambda: 0.0)

    def background(bg, after=lambda: None):
        def stop():
            cpu = bg.cpu_seconds()
            bg.stop()
            after()
            return cpu
        return None, stop

    def outside():
        sleeper = subprocess.Popen(["sleep", "3600"])
        bg = Background([guard, "-p", str(sleeper.pid), "--policy", hold, "-o", "/dev/null"], "claude-guard: guarding")
        return background(bg, lambda: (sleeper.kill(), sleeper.wait()))

    def execsnoop():
        return background(Background(["/usr/sbin/execsnoop"], "PCOMM", settle=0.2))

    def bpftrace():
        return background(Background(["sh", "-c", "ulimit -l unlimited; exec bpftrace -e "
                                      "'tracepoint:sched:sched_process_exec { printf(\"%d %s\\n\", pid, comm); }'"],
                                     "Attaching 1 probe", settle=0.3))

    def auditd():
        d = Background(["/usr/sbin/auditd", "-f", "-n"], None, settle=0.5)
        sh(["auditctl", "-a", "always,exit", "-F", "arch=b64", "-S", "execve", "-k", "cgbench"])

        def after():
            sh(["auditctl", "-d", "always,exit", "-F", "arch=b64", "-S", "execve", "-k", "cgbench"])
            sh(["auditctl", "-e", "0"])
        return background(d, after)

    modes = [("no tool", none), ("claude-guard audit", guarded("--audit", "--policy", hold)),
             ("claude-guard enforce, hold+decide", guarded("--policy", hold)),
             ("claude-guard enforce, hold+decide, --busy-poll 2000", guarded("--policy", hold, "--busy-poll", "2000")),
             ("claude-guard enforce, kernel verdict", guarded("--policy", kernel)),
             ("claude-guard, process outside the tree", outside)]
    if have["execsnoop"]:
        modes.append(("execsnoop (libbpf-tools)", execsnoop))
    if have["bpftrace"]:
        modes.append(("bpftrace exec tracepoint", bpftrace))
    if have["auditd"]:
        modes.append(("auditd execve rule", auditd))

    variants = [("/bin/true", ["/bin/true"]), ("sh -c true", ["/bin/sh", "-c", "true"])]
    results = {(m, v): [] for m, _ in modes for v, _ in variants}
    tool_cpu = {m: 0.0 for m, _ in modes}
    for rnd in range(a.rounds):
        for name, setup in modes:
            wrap, teardown = setup()
            try:
                for vname, vargv in variants:
                    r = execbench(["count", str(a.execs)] + vargv, wrap)
                    results[(name, vname)].append(r)
            finally:
                tool_cpu[name] += teardown()
        print(f"round {rnd + 1}/{a.rounds} done", file=sys.stderr)

    # CPU per exec: what the run used beyond the no-tool run (wrapped modes), plus a background tool's own.
    n_all = a.rounds * a.execs * len(variants)
    base_cpu = sum(r["cpu_s"] for v, _ in variants for r in results[("no tool", v)])
    lines = ["| tool | program | median µs | p99 µs | added median µs | ratio to no tool | tool CPU µs/exec |",
             "|---|---|---|---|---|---|---|"]
    for vname, _ in variants:
        base = statistics.median(r["median_us"] for r in results[("no tool", vname)])
        for name, _ in modes:
            rs = results[(name, vname)]
            med = statistics.median(r["median_us"] for r in rs)
            p99 = statistics.median(r["p99_us"] for r in rs)
            mode_cpu = sum(r["cpu_s"] for v, _ in variants for r in results[(name, v)])
            cpu_us = ((mode_cpu - base_cpu) + tool_cpu[name]) / n_all * 1e6 if name != "no tool" else 0.0
            lines.append(f"| {name} | `{vname}` | {med:.0f} | {p99:.0f} | {med - base:+.1f} | {med / base:.3f} | {cpu_us:.0f} |")

    # The guard's own view of holds: exec-to-verdict time, without and with busy polling.
    for label, extra in [("hold+decide", []), ("hold+decide, --busy-poll 2000", ["--busy-poll", "2000"])]:
        if os.path.exists(guard_json):
            os.unlink(guard_json)
        execbench(["count", str(a.execs), "/bin/true"], in_guard("--policy", hold, *extra))
        s = {}
        with open(guard_json) as f:
            for line in f:
                o = json.loads(line)
                if o.get("type") == "summary":
                    s = o
        lines.append(f"\nexec-to-verdict, {label}: median {s.get('hold_decision_median_us', 0):.1f} µs, "
                     f"p99 {s.get('hold_decision_p99_us', 0):.1f} µs (the guard's clock: kernel exec to SIGCONT sent)")

    # Exec storm: every core runs /bin/true in a loop under the guard (enforce, kernel verdicts).
    workers = os.cpu_count() or 2
    if os.path.exists(guard_json):
        os.unlink(guard_json)
    storm = execbench(["storm", str(a.storm_seconds), str(workers), "/bin/true"], in_guard("--policy", kernel))
    summary = guard_summary(guard_json)
    # The storm's own execs: execbench and its workers' /bin/true (the guard counts every exec in the tree).
    received = summary.get("execs", 0)
    missed = summary.get("hold_timeouts", 0) + max(0, storm["execs"] + 1 - received)
    lines += ["", "| exec storm | value |", "|---|---|",
              f"| workers × seconds | {workers} × {a.storm_seconds:g} |",
              f"| execs done | {storm['execs']} ({storm['execs'] / a.storm_seconds:.0f}/s) |",
              f"| exec events received | {received} |",
              f"| lost events (kernel count) | {summary.get('lost', 'n/a')} |",
              f"| missed decisions (timeouts + unreported) | {missed} |",
              f"| guard peak RSS | {summary.get('peak_rss_kb', 0) / 1024:.1f} MiB |"]
    lines += otlp_storm(guard, kernel, a.storm_seconds, workers)

    # Start-up: launch to "programs attached" (the guarding line), -p on a sleeping process.
    starts = []
    sleeper = subprocess.Popen(["sleep", "3600"])
    for _ in range(7):
        t0 = time.monotonic()
        bg = Background([guard, "-p", str(sleeper.pid), "--policy", hold], "claude-guard: guarding")
        starts.append((time.monotonic() - t0) * 1000)
        bg.stop()
    sleeper.kill()
    sleeper.wait()
    lines += ["", "| start-up | value |", "|---|---|",
              f"| start to programs attached (median of 7, -p) | {statistics.median(starts):.0f} ms |"]

    engine = sh(["bash", os.path.join(HERE, "engine", "run.sh"), guard]).stdout.strip().splitlines()
    lines += ["", "| engine | value |", "|---|---|"] + [f"| {l.split(': ', 1)[0]} | {l.split(': ', 1)[1]} |"
                                                      for l in engine if ": " in l]
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").stdout.strip()
    head = [f"machine: {os.cpu_count()} cores, {cpu}, kernel {os.uname().release}",
            f"command: make bench ({a.rounds} interleaved rounds × {a.execs} execs per tool and program)", ""]
    report = "\n".join(head + lines + [""] + [f"note: {n}" for n in notes])
    print(report)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(report + "\n")


if __name__ == "__main__":
    main()
