#!/usr/bin/env python3
"""Real work under the guard (issue 19): a C build, a shell script and a Claude-Code-shaped agent session.

Each workload runs under no tool, libbpf-tools execsnoop, claude-guard audit, claude-guard enforcing the
default policy and enforcing `strict` (with its file rules), in interleaved rounds so drift hits every tool
alike. A tool's time for a round is divided by no tool's time in the same round; the table gives the median
ratio over the rounds and its spread (lowest–highest). claude-guard's start-up (attach and detach of its
programs around `run -- true`) is measured on its own and subtracted, so the ratio is the cost of guarding
the work; the raw ratio, start-up included, is shown beside it. Held execs (stopped at exec for a user-space
verdict) are reported per workload from the guard's --report.

With --before OLD, OLD's audit and enforcing rows run in the same rounds (a change's before/after figures).

Usage: bench/workloads/run.py BINARY [--rounds R] [--scale S] [--before OLD] [--only WORKLOAD-PREFIX]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))

# What Claude Code runs, one `bash -c` per tool call (the shell snapshot, the command, the cwd written back).
AGENT_COMMANDS = [
    "git status", "git log --oneline -5", "ls -la", "ls src", "cat README.md | head -20",
    "grep -rn TODO src | head", "grep -c include src/*.c", "wc -l src/*.c | tail -1",
    "find . -name '*.c' | wc -l", "sed -n '1,5p' src/f1.c", "head -3 src/f2.c && tail -2 src/f3.c",
    "python3 -c 'print(1+1)'", "python3 --version", "node -e 'console.log(2)'",
    "git diff --stat", "git branch -a", "mkdir -p build && touch build/a.o && rm -rf build",
    "cp README.md /tmp/cg-wl-readme && rm -f /tmp/cg-wl-readme", "echo done > out.txt && cat out.txt",
    "awk '{n++} END {print n}' src/f1.c", "sort src/f4.c | uniq | wc -l", "date +%s", "whoami", "pwd",
    "test -f Makefile && echo yes", "git add -A && git commit -qm wip && git reset -q --soft HEAD~1",
    "ls -la src | head -5", "grep -rl main src | head -3", "cat src/f5.c | tr a-z A-Z | head -2",
    "du -sh src", "env | grep -c PATH", "which python3", "git rev-parse HEAD", "stat -c %s README.md",
    "seq 1 10 | paste -sd+ | bc", "xargs -n1 echo < README.md | head -3", "basename $PWD",
    "for f in src/f1.c src/f2.c; do wc -c $f; done", "python3 -c 'import json; print(json.dumps([1]))'",
    "git show --stat HEAD | head -5", "tar czf /tmp/cg-wl.tgz src && rm -f /tmp/cg-wl.tgz",
    "md5sum src/f1.c", "file README.md || true", "diff src/f1.c src/f2.c | head -3 || true",
    "printf '%s\\n' a b c | grep b", "cut -d: -f1 /etc/passwd | head -3", "uname -a", "id -u",
    "git stash list", "true",
]

SNAPSHOT = """# Claude Code's shell snapshot: functions, shell options, aliases and PATH of the user's shell.
unalias -a 2>/dev/null || true
shopt -s expand_aliases
alias ll='ls -l'
export PATH="$PATH"
"""

AGENT_JS = r"""
const { spawnSync } = require('child_process');
const [,, snapshot, cwdFile, login, listFile] = process.argv;
const cmds = require('fs').readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
for (const cmd of cmds) {
  const q = cmd.replace(/'/g, `'\\''`);
  const line = `source ${snapshot} && eval '${q}' \< /dev/null && pwd -P >| ${cwdFile}`;
  const args = login === '1' ? ['-c', '-l', line] : ['-c', line];
  spawnSync('/bin/bash', args, { stdio: ['ignore', 'ignore', 'ignore'], env: process.env });
}
"""


def make_tree(root, scale):
    """The project every workload works in: C sources, a Makefile, a git repository, a README."""
    src = os.path.join(root, "src")
    os.makedirs(src)
    n = 120 * scale
    for i in range(n):
        with open(os.path.join(src, f"f{i}.c"), "w") as f:
            f.write(f"#include <stdio.h>\nint f{i}(int x) {{ return x * {i} + 1; }}\n")
    with open(os.path.join(src, "main.c"), "w") as f:
        f.write("#include <stdio.h>\nint main(void) { puts(\"ok\"); return 0; }\n")
    with open(os.path.join(root, "Makefile"), "w") as f:
        f.write("SRCS := $(wildcard src/*.c)\nOBJS := $(SRCS:.c=.o)\n"
                "prog: $(OBJS)\n\tcc -o $@ $^\n%.o: %.c\n\tcc -O0 -c -o $@ $<\n"
                "clean:\n\trm -f src/*.o prog\n")
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write("# workload\n\nA project for the workload benchmark.\n" * 5)
    subprocess.run("git init -q && git add -A && git -c user.email=b@x -c user.name=b commit -qm init",
                   shell=True, cwd=root, check=True)
    # The shell script: 1,500 small commands per scale, most of them external programs.
    lines = ["#!/bin/bash", "F=README.md"]
    cycle = ["true", "echo hello >/dev/null", "ls src >/dev/null", "grep -c workload \"$F\" >/dev/null",
             "cat \"$F\" >/dev/null", "wc -l \"$F\" >/dev/null", "date +%s >/dev/null",
             "basename /a/b >/dev/null", "dirname /a/b >/dev/null", "head -1 \"$F\" >/dev/null"]
    for i in range(1500 * scale):
        lines.append(cycle[i % len(cycle)])
    with open(os.path.join(root, "script.sh"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(root, "snapshot.sh"), "w") as f:
        f.write(SNAPSHOT)
    with open(os.path.join(root, "agent.js"), "w") as f:
        f.write(AGENT_JS)
    with open(os.path.join(root, "commands.txt"), "w") as f:
        f.write("\n".join(AGENT_COMMANDS * scale) + "\n")


def workloads(root):
    node = shutil.which("node")
    w = {
        "make -j2 (C build)": ["bash", "-c", "make -s clean && make -s -j2 prog >/dev/null"],
        "shell script": ["bash", os.path.join(root, "script.sh")],
    }
    if node:
        for login in ("1", "0"):
            name = "agent session, login shell" if login == "1" else "agent session, no login"
            w[name] = [node, os.path.join(root, "agent.js"), os.path.join(root, "snapshot.sh"),
                       os.path.join(root, "cwd.txt"), login, os.path.join(root, "commands.txt")]
    return w


class Execsnoop:
    """libbpf-tools execsnoop in the background; ready once it printed its header; stopped by PID."""

    def __init__(self, path):
        self.log = tempfile.NamedTemporaryFile(prefix="cgwl-", delete=False).name
        self.proc = subprocess.Popen([path], stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        end = time.time() + 15
        while time.time() < end:
            with open(self.log, errors="replace") as f:
                if "PCOMM" in f.read():
                    break
            time.sleep(0.005)

    def stop(self):
        self.proc.send_signal(2)
        self.proc.wait(timeout=30)
        os.unlink(self.log)


def timed(argv, cwd):
    t = time.monotonic()
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    return time.monotonic() - t, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scale", type=int, default=1, help="multiplies every workload's size")
    ap.add_argument("--before", help="an earlier build whose guard rows run in the same rounds")
    ap.add_argument("--only", help="run only the workloads whose name starts with this")
    args = ap.parse_args()
    guard = os.path.abspath(args.binary)
    root = tempfile.mkdtemp(prefix="cg-workload-")
    make_tree(root, args.scale)
    report = os.path.join(root, "report.json")
    execsnoop = shutil.which("execsnoop") or ("/usr/sbin/execsnoop" if os.path.exists("/usr/sbin/execsnoop") else None)

    def cg(*extra, binary=guard):
        return lambda argv: [binary, "run", "--quiet", "--report", report, *extra, "--"] + argv

    tools = [("no tool", None), ("execsnoop (libbpf-tools)", "execsnoop"),
             ("claude-guard audit", cg("--audit")), ("claude-guard enforce, default", cg()),
             ("claude-guard enforce, strict + file rules", cg("--policy", "strict"))]
    if args.before:
        old = os.path.abspath(args.before)
        tools += [("before: claude-guard audit", cg("--audit", binary=old)),
                  ("before: claude-guard enforce, default", cg(binary=old)),
                  ("before: claude-guard enforce, strict + file rules", cg("--policy", "strict", binary=old))]
    if not execsnoop:
        print("execsnoop not installed (Debian's libbpf-tools): its row is skipped", file=sys.stderr)
        tools = [t for t in tools if t[1] != "execsnoop"]

    # Start-up: `run -- true` under each guard mode, against `true` alone.
    startup = {}
    for name, wrap in tools:
        if not callable(wrap):
            continue
        times = [timed(wrap(["true"]), root)[0] - timed(["true"], root)[0] for _ in range(args.rounds)]
        startup[name] = statistics.median(times)

    wl = workloads(root)
    if args.only:
        wl = {k: v for k, v in wl.items() if k.startswith(args.only)}
    times = {(w, t): [] for w in wl for t, _ in tools}
    held = {(w, t): [] for w in wl for t, _ in tools}
    execs = {w: [] for w in wl}
    for w, argv in wl.items():
        timed(argv, root)  # warm the page cache and the build's outputs once
    for r in range(args.rounds):
        for w, argv in wl.items():
            order = tools if r % 2 == 0 else list(reversed(tools))
            for name, wrap in order:
                snoop = Execsnoop(execsnoop) if wrap == "execsnoop" else None
                full = wrap(argv) if callable(wrap) else argv
                if os.path.exists(report):
                    os.unlink(report)
                t, res = timed(full, root)
                if snoop:
                    snoop.stop()
                if res.returncode not in (0, 3):
                    print(f"{w} under {name}: exit {res.returncode}: {res.stderr[-400:]}", file=sys.stderr)
                times[(w, name)].append(t)
                if callable(wrap) and os.path.exists(report):
                    s = json.load(open(report))["summary"]
                    held[(w, name)].append(s.get("held", 0))
                    if name == "claude-guard audit":
                        execs[w].append(s["execs"])
                    if s.get("violations"):
                        print(f"{w} under {name}: {s['violations']} violation(s)", file=sys.stderr)

    print(f"## Workloads\n\n{args.rounds} interleaved rounds, scale {args.scale}. Ratio: time under the tool "
          f"over no tool's time in the same round, claude-guard's start-up subtracted (raw, start-up included, "
          f"in brackets); median over rounds, spread lowest–highest.\n")
    print("| workload | execs | tool | median s | ratio | spread | raw ratio | held execs |")
    print("|---|---|---|---|---|---|---|---|")
    for w in wl:
        base = times[(w, "no tool")]
        n = int(statistics.median(execs[w])) if execs[w] else 0
        for name, wrap in tools:
            ts = times[(w, name)]
            su = startup.get(name, 0.0)
            ratios = [(t - su) / b for t, b in zip(ts, base)]
            raw = [t / b for t, b in zip(ts, base)]
            h = f"{int(statistics.median(held[(w, name)]))} ({100 * statistics.median(held[(w, name)]) / n:.0f} %)" \
                if held[(w, name)] and n else "–"
            print(f"| {w} | {n} | {name} | {statistics.median(ts):.3f} | {statistics.median(ratios):.3f} | "
                  f"{min(ratios):.3f}–{max(ratios):.3f} | {statistics.median(raw):.3f} | {h} |")
    print("\nStart-up (`run -- true` over `true`, median): " +
          ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in startup.items()))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
