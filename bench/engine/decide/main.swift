// Decision time of the live guard's evaluator per exec (SPEC §7: p50 under 10 µs, p99 under 50 µs), on the
// exec Claude Code makes for each Bash tool call:
//
//     bash -c -l "source SNAPSHOT && eval 'CMD' \< /dev/null && pwd -P >| FILE"
//
// judged as `Enforcer` judges a held exec: one `ExecJudge` per policy kept across execs, the context built from
// argv, real path, cwd, uid, identities, workspace and the parent (Claude Code's node). CMD runs over realistic
// agent commands (git, npm, pytest, sed pipelines, heredocs, `rm` of build directories, `curl | sh`). Policies:
// the embedded default, policies/strict.yaml, and the baseline, a policy whose one rule names a program no
// payload runs (the same parse, unwrap and walk, no rule tried); default and strict also with a fresh evaluator
// per exec (`Policy.evaluate`, as the guard judged before it kept one). Rounds interleave the configurations so a
// slow minute of the shared machine hits all alike. Prints one line per configuration: p50, p99, max and mean
// over every decision timed.
//
// Usage: decision-bench [--rounds R] [--reps N] [--policy-dir DIR] [--once] [--each]
//   --once: judge every payload once per policy, untimed (for `valgrind --tool=callgrind`: instruction counts).
//   --each: also one line per payload and policy (its p50), to see where the time goes.
import GuardCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Writes the message to standard error and exits with `code`.
func fail(_ message: String, code: Int32) -> Never {
    var s = "decision-bench: \(message)\n"
    s.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(code)
}

/// The agent commands CMD stands for (what `eval` runs); each becomes one `bash -c -l` payload.
let commands = [
    "git status",
    "git diff --stat HEAD~1",
    "git log --oneline -n 20 -- src/",
    "git add -A && git commit -m \"Fix the parser's handling of nested quotes\"",
    "git checkout -b fix/issue-42 && git push -u origin fix/issue-42",
    "git commit -m \"$(cat <<'EOF'\nRefactor the config loader\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nEOF\n)\"",
    "npm test",
    "npm run build 2>&1 | tail -n 50",
    "npm install --save-dev typescript@5.4 @types/node",
    "npx jest src/__tests__/parser.test.ts --coverage",
    "python -m pytest tests/ -x -q 2>&1 | head -100",
    "cd backend && python3 -m pytest tests/test_api.py::test_login -vv",
    "pytest -k \"test_parse and not slow\" --tb=short",
    "sed -n '1,120p' src/main.rs",
    "sed -i 's/oldName/newName/g' src/*.ts",
    "grep -rn \"TODO\" src/ | sed 's/:.*//' | sort | uniq -c | sort -rn | head -20",
    "find . -name '*.py' -not -path './node_modules/*' | xargs wc -l | sort -n | tail -5",
    "cat > src/config.json << 'EOF'\n{\n  \"debug\": true,\n  \"port\": 8080\n}\nEOF",
    "rm -rf build dist node_modules/.cache",
    "rm -rf target && cargo build --release 2>&1 | tail -20",
    "make clean && make -j4",
    "curl -fsSL https://sh.rustup.rs | sh -s -- -y",
    "curl -sSL https://install.python-poetry.org | python3 -",
    "ls -la",
    "cat package.json | jq '.scripts'",
    "for f in src/*.ts; do echo \"$f\"; wc -l \"$f\"; done",
    "mkdir -p src/utils && touch src/utils/index.ts",
    "timeout 120 cargo test -- --nocapture",
    "pip install -r requirements.txt",
    "ps aux | grep node | head",
    "docker compose up -d db && docker compose logs --tail 50 db",
    "cd /home/agent/project/frontend && npm ci && npm run lint -- --fix",
]

let workspace = "/home/agent/project"
let snapshot = "/home/agent/.claude/shell-snapshots/snapshot-bash-1733140000000-k3j4h5.sh"

/// The argv Claude Code execs for one Bash tool call: CMD single-quoted for `eval` (`'` written `'\''`).
func payload(_ cmd: String) -> [String] {
    var quoted = ""
    for c in cmd { quoted += c == "'" ? "'\\''" : String(c) }
    return [
        "/bin/bash", "-c", "-l",
        "source \(snapshot) && eval '\(quoted)' \\< /dev/null && pwd -P >| /tmp/claude-4f2a-cwd",
    ]
}

let parent = ExecContext(
    argv: ["node", "/usr/local/bin/claude"], path: "/usr/bin/node", cwd: workspace, uid: 1000,
    identities: ["node"], workspace: workspace)
let contexts = commands.map { cmd in
    ExecContext(
        argv: payload(cmd), path: "/usr/bin/bash", filename: "/bin/bash", cwd: workspace, uid: 1000,
        identities: ["bash"], parent: parent, workspace: workspace)
}

var rounds = 5
var reps = 200
var policyDir = "policies"
var once = false
var each = false
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--rounds": rounds = Int(args.popFirst() ?? "") ?? rounds
    case "--reps": reps = Int(args.popFirst() ?? "") ?? reps
    case "--policy-dir": policyDir = args.popFirst() ?? policyDir
    case "--once": once = true
    case "--each": each = true
    default:
        fail("unknown argument '\(a)'; use --rounds R --reps N --policy-dir DIR --once --each", code: 2)
    }
}

/// The baseline: one rule for a program no payload runs (a policy needs one), so no rule is ever tried.
let baselineYAML = """
    version: 1
    name: baseline
    default: allow
    rules: [ { id: never, match: { command: no-such-program }, action: alert } ]
    """
/// One configuration: a name, and how it judges an exec.
let policies: [(String, (ExecContext) -> Action)]
do {
    let baseline = try Policy.load(yaml: baselineYAML, file: "baseline")
    let strict = try Policy.load(path: policyDir + "/strict.yaml")
    let defaultPolicy = Policy.embeddedDefault
    let judges = [baseline, defaultPolicy, strict].map { ExecJudge(policy: $0) }
    // `identify` names a file a runner loads; no payload here has one.
    policies = [
        ("baseline (no rule met)", { judges[0].evaluate($0) { _ in [] }.action }),
        ("default (embedded)", { judges[1].evaluate($0) { _ in [] }.action }),
        ("strict", { judges[2].evaluate($0) { _ in [] }.action }),
        ("default, fresh evaluator per exec", { defaultPolicy.evaluate($0) { _ in [] }.action }),
        ("strict, fresh evaluator per exec", { strict.evaluate($0) { _ in [] }.action }),
    ]
} catch {
    fail("\(error); run from the repository root or give --policy-dir", code: 2)
}

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

// Warm-up (PATH resolutions, first regex use), and the verdicts, which every round must repeat.
var verdicts: [[Action]] = policies.indices.map { k in contexts.map { policies[k].1($0) } }
if once { exit(0) }

var samples = [[UInt64]](repeating: [], count: policies.count)
/// Per policy and payload, for `--each`.
var perPayload = [[[UInt64]]](repeating: [[UInt64]](repeating: [], count: contexts.count), count: policies.count)
for _ in 0..<rounds {
    for (k, p) in policies.enumerated() {
        for _ in 0..<reps {
            for (i, ctx) in contexts.enumerated() {
                let t = nowNs()
                let v = p.1(ctx)
                let dt = nowNs() - t
                samples[k].append(dt)
                if each { perPayload[k][i].append(dt) }
                if v != verdicts[k][i] {
                    fail("\(p.0) changed its verdict on \(commands[i])", code: 1)
                }
            }
        }
    }
}

func pct(_ s: [UInt64], _ q: Double) -> Double { Double(s[min(s.count - 1, Int(Double(s.count) * q))]) / 1000 }
func fmt(_ x: Double) -> String {
    let r = (x * 10).rounded() / 10
    return String(r)
}
let base = samples[0].sorted()
print(
    "decision: \(commands.count) Claude-Code-shaped bash -c -l payloads, \(rounds) rounds x \(reps) reps each, "
        + "1 thread")
for (k, p) in policies.enumerated() {
    let s = samples[k].sorted()
    let mean = Double(s.reduce(0, +)) / Double(s.count) / 1000
    let acted = verdicts[k].filter { $0 != .allow }.count
    print(
        "decision (\(p.0)): p50 \(fmt(pct(s, 0.5))) us, p99 \(fmt(pct(s, 0.99))) us, max \(fmt(pct(s, 1)))"
            + " us, mean \(fmt(mean)) us, p50 ratio to baseline \(fmt(pct(s, 0.5) / pct(base, 0.5)))"
            + " (\(s.count) decisions; acts on \(acted) of \(commands.count) payloads)")
}
if each {
    for (i, cmd) in commands.enumerated() {
        let p50s = policies.indices.map { fmt(pct(perPayload[$0][i].sorted(), 0.5)) }.joined(separator: " / ")
        print("  \(p50s) us  \(cmd.split(separator: "\n").first ?? "")")
    }
}
