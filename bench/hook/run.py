#!/usr/bin/env python3
"""`claude-guard hook`: wall time per call, process start and policy load included (bench/README.md, "Hook").

Each call is what Claude Code does: spawn the hook, write one PreToolUse JSON on its stdin, read its stdout, wait
for it. Calls of every kind (Bash allowed / denied / long, Write, Read, Grep, an unknown tool) and policies (the
embedded default, also through ArgumentParser as every call went before the fast path; a project's
.claude/claude-guard.yaml; an imported one) interleave over rounds, so a slow minute of the shared machine hits all
alike. `/bin/true` through the same harness is the spawn baseline.
Usage: bench/hook/run.py BINARY [--calls N] [--rounds R]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WS = tempfile.mkdtemp(prefix="cg-hook-bench-")


def call(tool, tool_input, cwd=WS):
    return json.dumps({
        "session_id": "bench", "transcript_path": "/tmp/t.jsonl", "cwd": cwd, "permission_mode": "default",
        "hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": tool_input, "tool_use_id": "toolu_bench",
    }).encode()


CALLS = {
    "Bash allowed (npm test)": call("Bash", {"command": "npm test", "description": "tests"}),
    "Bash denied (chained rm -rf)": call("Bash", {"command": "git status && rm -rf ~/old"}),
    "Bash 2 KiB pipeline": call("Bash", {"command": " | ".join(["grep -v x%d file.txt" % i for i in range(100)])}),
    "Write in the workspace": call("Write", {"file_path": WS + "/src/a.py", "content": "x" * 4000}),
    "Read ~/.ssh/id_rsa": call("Read", {"file_path": os.path.expanduser("~/.ssh/id_rsa")}),
    "Grep the workspace": call("Grep", {"pattern": "TODO", "path": WS}),
    "unknown tool (Task)": call("Task", {"prompt": "explore", "description": "x"}),
}


def run_once(argv, data, env):
    t = time.perf_counter_ns()
    p = subprocess.run(argv, input=data, capture_output=True, env=env)
    dt = (time.perf_counter_ns() - t) / 1e6
    if p.returncode not in (0,):
        sys.exit("bench/hook: %s exited %d: %s" % (argv, p.returncode, p.stderr.decode(errors="replace")))
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--calls", type=int, default=40, help="calls per kind per round")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    os.makedirs(WS + "/.claude", exist_ok=True)
    os.makedirs(WS + "/src", exist_ok=True)
    env = dict(os.environ, CLAUDE_PROJECT_DIR=WS)
    imported = os.path.join(WS, "imported.yaml")
    settings = os.path.join(WS, "settings.json")
    with open(settings, "w") as f:
        json.dump({"permissions": {
            "deny": ["Bash(rm -rf:*)", "Bash(git push --force:*)", "Read(~/.ssh/**)", "Read(.env)", "Edit(//etc/**)"],
            "ask": ["Bash(git push:*)", "Bash(docker:*)"],
            "allow": ["Bash(npm run test:*)", "Bash(git status)", "Bash(ls *)", "Read(./docs/**)", "WebSearch"]}}, f)
    p = subprocess.run([binary, "import", "claude-settings", settings, "-o", imported], capture_output=True)
    if p.returncode != 0:
        sys.exit("bench/hook: import failed: " + p.stderr.decode())
    setups = {
        "embedded default": ([binary, "hook", "--no-link"], None),
        # `--workspace=DIR` is not a flag the fast path reads: the same call through ArgumentParser, as before it.
        "embedded default, through ArgumentParser": ([binary, "hook", "--no-link", "--workspace=" + WS], None),
        "project policy (strict.yaml)": ([binary, "hook", "--no-link"], os.path.join(ROOT, "policies/strict.yaml")),
        "imported settings": ([binary, "hook", "--no-link", "--policy", imported], None),
    }
    times = {(s, k): [] for s in setups for k in CALLS}
    base = []
    project_policy = os.path.join(WS, ".claude", "claude-guard.yaml")
    for r in range(a.rounds):
        for s, (argv, project) in setups.items():
            if project:
                with open(project) as src, open(project_policy, "w") as dst:
                    dst.write(src.read())
            elif os.path.exists(project_policy):
                os.remove(project_policy)
            for k, data in CALLS.items():
                for _ in range(a.calls):
                    times[(s, k)].append(run_once(argv, data, env))
        for _ in range(a.calls):
            base.append(run_once(["/bin/true"], b"{}", env))

    def q(v, f):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * f))]

    print("| policy | call | median ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    allv = []
    for (s, k), v in times.items():
        if "ArgumentParser" not in s:
            allv += v
        print("| %s | %s | %.2f | %.2f | %.2f | %.2f |" % (s, k, statistics.median(v), q(v, .95), q(v, .99), max(v)))
    print("| (spawn baseline) | `/bin/true` through the same harness | %.2f | %.2f | %.2f | %.2f |"
          % (statistics.median(base), q(base, .95), q(base, .99), max(base)))
    print()
    print("all %d hook calls as shipped: median %.2f ms, p95 %.2f ms, p99 %.2f ms (budget: 15 ms)"
          % (len(allv), statistics.median(allv), q(allv, .95), q(allv, .99)))


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(WS, ignore_errors=True)
