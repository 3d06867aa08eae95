#!/usr/bin/env python3
"""File rules' cost (issue 11), side by side in one run: a `make -j` build of generated C files in the
workspace under no tool, claude-guard without file rules, and claude-guard enforcing file rules (kernel
judging every open, Landlock layers), interleaved over rounds; then the file programs' kernel time per call
for a tracked build and for an untracked process (kernel.bpf_stats_enabled).
Usage: bench/files/run.py BINARY [--rounds R] [--files N]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)


def project(root, n):
    """n C files with a few shared headers, and a Makefile that builds them into one program."""
    os.makedirs(os.path.join(root, "include"), exist_ok=True)
    for h in range(8):
        with open(os.path.join(root, "include", f"h{h}.h"), "w") as f:
            f.write(f"#pragma once\n#include <stdio.h>\n#include <string.h>\nstatic inline int h{h}(int x) {{ return x * {h + 3}; }}\n")
    for i in range(n):
        with open(os.path.join(root, f"f{i}.c"), "w") as f:
            f.write("".join(f'#include "h{h}.h"\n' for h in range(8)))
            f.write(f"int f{i}(int x) {{ char b[32]; snprintf(b, sizeof b, \"%d\", x); return (int)strlen(b) + h{i % 8}(x); }}\n")
    with open(os.path.join(root, "main.c"), "w") as f:
        f.write("int main(void) { return 0; }\n")
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write("SRC := $(wildcard *.c)\nOBJ := $(SRC:.c=.o)\nprog: $(OBJ)\n\tcc -o $@ $^\n"
                "%.o: %.c\n\tcc -O0 -Iinclude -c $< -o $@\nclean:\n\trm -f $(OBJ) prog\n")


def build(root, wrap):
    sh(["make", "-C", root, "clean"])
    t0 = time.monotonic()
    r = sh((wrap or []) + ["make", "-C", root, "-j", str(os.cpu_count() or 2), "prog"], cwd=root)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"build failed under {wrap}: {r.stdout[-500:]} {r.stderr[-500:]}")
    return dt


def prog_stats(text=None):
    """run_time_ns and run_cnt of the raw syscall programs (sys_enter, sys_exit) of every loaded guard."""
    out = text if text is not None else sh(["bpftool", "prog", "show", "--json"]).stdout
    t = c = 0
    for p in json.loads(out or "[]"):
        if p.get("name", "") in ("handle_sys_enter", "handle_sys_exit"):
            t += p.get("run_time_ns", 0)
            c += p.get("run_cnt", 0)
    return t, c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--files", type=int, default=300)
    a = ap.parse_args()
    guard = os.path.abspath(a.binary)
    root = tempfile.mkdtemp(prefix="cgbench-build-")
    project(root, a.files)
    files_policy = os.path.join(BENCH, "policies", "files.yaml")
    none_policy = os.path.join(BENCH, "policies", "kernel.yaml")
    modes = [("no tool", None),
             ("claude-guard, no file rules", [guard, "run", "--quiet", "--policy", none_policy, "-o", "/dev/null",
                                              "--workspace", root, "--"]),
             ("claude-guard, file rules (kernel + Landlock)", [guard, "run", "--quiet", "--policy", files_policy,
                                                             "-o", "/dev/null", "--workspace", root, "--"])]
    build(root, None)  # warm the page cache
    times = {m: [] for m, _ in modes}
    for rnd in range(a.rounds):
        for name, wrap in modes:
            times[name].append(build(root, wrap))
        print(f"files bench: round {rnd + 1}/{a.rounds} done", file=sys.stderr)
    base = statistics.median(times["no tool"])
    lines = [f"| build ({a.files} C files, make -j{os.cpu_count()}) | median s | min–max s | ratio to no tool |",
             "|---|---|---|---|"]
    for name, _ in modes:
        ts = times[name]
        lines.append(f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f}–{max(ts):.2f} | "
                     f"{statistics.median(ts) / base:.3f} |")

    # Kernel time per file call: a tracked build, and an untracked process while a guard runs elsewhere.
    sh(["sysctl", "-q", "-w", "kernel.bpf_stats_enabled=1"])
    try:
        # Tracked: the guard's own programs, sampled from inside its tree before and after the build.
        snap = os.path.join(root, "stats")
        sh(["make", "-C", root, "clean"])
        sh(modes[2][1] + ["sh", "-c", f"bpftool prog show --json > {snap}.0; make -s -j{os.cpu_count()} prog; "
                                      f"bpftool prog show --json > {snap}.1"], cwd=root)
        t0, c0 = prog_stats(open(snap + ".0").read())
        t1, c1 = prog_stats(open(snap + ".1").read())
        sleeper = subprocess.Popen(["sleep", "3600"])
        bg = subprocess.Popen([guard, "-p", str(sleeper.pid), "--quiet", "--policy", files_policy, "-o", "/dev/null"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        t2, c2 = prog_stats()
        build(root, None)  # untracked: the programs run for every process, and return at the tracked lookup
        t3, c3 = prog_stats()
        bg.send_signal(2)
        bg.wait()
        sleeper.kill()
        sleeper.wait()
    finally:
        sh(["sysctl", "-q", "-w", "kernel.bpf_stats_enabled=0"])
    lines += ["", "| file programs, kernel time | calls | ns per call |", "|---|---|---|"]
    if c1 > c0:
        lines.append(f"| tracked build (sys_enter + sys_exit runs) | {c1 - c0} | {(t1 - t0) / (c1 - c0):.0f} |")
    if c3 > c2:
        lines.append(f"| untracked build, guard on another tree (sys_enter + sys_exit runs) | {c3 - c2} | "
                     f"{(t3 - t2) / (c3 - c2):.0f} |")
    print("\n".join(lines))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
