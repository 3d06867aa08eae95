import Foundation
import XCTest

/// Issue 14 on the real kernel with the built binary: every documented exit code, a stop with no terminal, the
/// terminal prompt, one violation per offending command, --fail-on, the workspace refusal, -p 1, help and
/// version, execsnoop's long options and -c.
final class CLIHonestyIntegrationTests: XCTestCase {
    var dir: URL!
    var policy: String { dir.appendingPathComponent("p.yaml").path }

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = try Guard.tempDir()
        try """
        version: 1
        name: honest
        settings: { hold_timeout_ms: 500, on_timeout: kill }
        rules:
          - { id: uname-alert, match: { command: uname }, action: alert, severity: low }
          - { id: sleep-stop, match: { command: sleep, args: ['7.25'] }, action: stop, severity: high }
          - { id: sleep-kill, match: { command: sleep, args: ['7.5'] }, action: kill, severity: critical }
        tests:
          - { command: uname, expect: alert }
        """.write(toFile: policy, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// `env -C DIR claude-guard ARGS`: claude-guard started in DIR.
    func runIn(_ cwd: String, _ args: [String], timeout: TimeInterval = 60) throws -> Guard.Result {
        try Guard.exec("/usr/bin/env", ["-C", cwd, Guard.binary] + args, timeout: timeout)
    }

    func testEveryDocumentedExitCode() throws {
        let ws = dir.path
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "version: 1\nrules:\n  - { id: a, match: { comand: rm }, action: kill }\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let notExecutable = dir.appendingPathComponent("plain-file").path
        try "x".write(toFile: notExecutable, atomically: true, encoding: .utf8)
        let cases: [(args: [String], code: Int32, says: String?)] = [
            // run: the command's status, 128+signal, 3 on violations.
            (["run", "--policy", policy, "--", "true"], 0, nil),
            (["run", "--policy", policy, "--", "sh", "-c", "exit 7"], 7, nil),
            (["run", "--policy", policy, "--", "sh", "-c", "kill -TERM $$"], 143, nil),
            (["run", "--policy", policy, "--", "uname"], 3, nil),
            (["run", "--policy", policy, "--", "sleep", "7.5"], 3, nil),
            // check, test, lint.
            (["check", "--policy", policy, "--", "ls"], 0, nil),
            (["check", "--policy", policy, "--", "uname", "-r"], 1, nil),
            (["test", policy], 0, nil),
            (["test", bad], 2, nil),
            (["lint", policy], 0, nil),
            (["lint", bad], 2, nil),
            // 2: invalid policy, unknown PID, output files that cannot be written.
            (["run", "--policy", bad, "--", "true"], 2, "The guard did not start"),
            (["-p", "999999", "--policy", policy], 2, "No process with PID 999999"),
            (
                ["run", "--policy", policy, "-o", "/nonexistent/dir/o.jsonl", "--", "true"], 2,
                "/nonexistent/dir/o.jsonl"
            ),
            (["run", "--policy", policy, "--report", "/nonexistent/r.json", "--", "true"], 2, "/nonexistent/r.json"),
            (["run", "--policy", policy, "--junit", "/nonexistent/j.xml", "--", "true"], 2, "/nonexistent/j.xml"),
            (["resume", "999999"], 2, "no process with PID 999999"),
            (["kill", "999999"], 2, "no process with PID 999999"),
            // 64: usage.
            (["run", "--frobnicate", "--", "true"], 64, nil),
            (["run", "-n", "(", "--", "true"], 64, "-n/--name '(' is not a regular expression"),
            (["run", "-l", "[", "--", "true"], 64, "-l/--line '[' is not a regular expression"),
            (["frobnicate"], 64, "'frobnicate' is not a command"),
            (["-p", "1"], 64, "--yes-whole-system"),
            (
                ["run", "--workspace", "/nonexistent-ws", "--", "true"], 64,
                "--workspace /nonexistent-ws: no such directory"
            ),
            (["run", "--fail-on", "block", "--", "true"], 64, "not 'block'"),
            // 127/126: the command cannot be run.
            (["run", "--policy", policy, "--", "/nonexistent-command"], 127, nil),
            (["run", "--policy", policy, "--", notExecutable], 126, nil),
        ]
        for c in cases {
            let r = try runIn(ws, c.args)
            XCTAssertEqual(r.status, c.code, "\(c.args): \(r.stderr)")
            if let says = c.says { XCTAssertTrue(r.stderr.contains(says), "\(c.args): \(r.stderr)") }
        }
        // 1: BPF unavailable or a load failure (here: no BTF where it is said to be).
        let noBTF = try Guard.exec(
            "/usr/bin/env", ["-C", ws, "CLAUDE_GUARD_BTF=/nonexistent.btf", Guard.binary, "run", "--", "true"])
        XCTAssertEqual(noBTF.status, 1, noBTF.stderr)
        // 77: missing privileges.
        let nobody = try Guard.exec(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", Guard.binary, "run", "--", "true"])
        if nobody.status == 126 || nobody.status == 127 {
            print("skipped the 77 case: nobody cannot run \(Guard.binary)")
        } else {
            XCTAssertEqual(nobody.status, 77, nobody.stderr)
            XCTAssertTrue(nobody.stderr.contains("needs root"), nobody.stderr)
        }
    }

    func testAStopWithNoTerminalGetsOnTimeoutAndTheReportSaysSo() throws {
        let report = dir.appendingPathComponent("r.json").path
        let junit = dir.appendingPathComponent("j.xml").path
        let start = Date()
        let r = try runIn(
            dir.path, ["run", "--policy", policy, "--report", report, "--junit", junit, "--", "sleep", "7.25"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 6, "the stop waited for an answer nobody could give")
        XCTAssertTrue(r.stderr.contains("is stopped (rule sleep-stop) and there is no terminal to ask"), r.stderr)
        XCTAssertTrue(r.stderr.contains("stopped with no terminal to ask: killed after 500 ms (on_timeout)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("stopped, then on_timeout: killed pid"), r.stderr)
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let v = (json?["violations"] as? [[String: Any]])?.first
        XCTAssertEqual(v?["enforced"] as? String, "stopped")
        XCTAssertEqual(v?["outcome"] as? String, "on_timeout: killed")
        XCTAssertTrue(try String(contentsOfFile: junit, encoding: .utf8).contains("[stopped, then on_timeout: killed]"))
    }

    /// `-p` with a terminal: the question on a line of its own, an answer, and a timeout reported as one.
    func testThePromptSitsOnItsOwnLineAndATimeoutIsNoOperatorDecision() throws {
        for answer in ["y", ""] {
            let fifo = dir.appendingPathComponent("go-\(answer.isEmpty ? "none" : answer)").path
            XCTAssertEqual(mkfifo(fifo, 0o600), 0)
            let target = Process()
            target.executableURL = URL(fileURLWithPath: "/bin/sh")
            target.arguments = ["-c", "cat \(fifo) >/dev/null; exec sleep 7.25"]
            target.currentDirectoryURL = dir
            try target.run()
            defer { kill(target.processIdentifier, SIGKILL) }
            // A pty for the guard (python's pty module): it sees a terminal, and we read what it shows there.
            let script = """
                import os, pty, sys, time, select
                pid, fd = pty.fork()
                if pid == 0:
                    os.execv(sys.argv[1], sys.argv[1:])
                out = b''
                def read(until, secs):
                    global out
                    end = time.time() + secs
                    while until not in out and time.time() < end:
                        r, _, _ = select.select([fd], [], [], 0.1)
                        if r:
                            try: out += os.read(fd, 4096)
                            except OSError: return
                read(b'guarding PID', 20)
                open(\(fifo.debugDescription), 'w').close()
                read(b'Let it run?', 10)
                if \(answer.isEmpty ? "False" : "True"): os.write(fd, b'\(answer)\\n')
                read(b'\(answer.isEmpty ? "on_timeout)" : "by the operator")', 10)
                os.kill(pid, 2)
                read(b'violation(s)', 10)
                sys.stdout.write(out.decode('utf-8', 'replace'))
                """
            let r = try Guard.exec(
                Guard.python,
                [
                    "-c", script, Guard.binary, "-p", "\(target.processIdentifier)", "--policy", policy, "--workspace",
                    dir.path,
                ],
                timeout: 60)
            let text = r.stdout.replacingOccurrences(of: "\r\n", with: "\n")
            let lines = text.split(separator: "\n")
            let question = try XCTUnwrap(lines.first { $0.contains("Let it run?") }, text)
            XCTAssertTrue(question.hasPrefix("claude-guard: pid "), "the prompt shares a line: \(question)")
            XCTAssertTrue(question.hasSuffix("on_timeout, killed)"), "the prompt does not end its line: \(question)")
            if answer == "y" {
                XCTAssertTrue(text.contains("resumed by the operator"), text)
                XCTAssertTrue(text.contains("stopped, then resumed pid"), text)
            } else {
                XCTAssertTrue(text.contains("no answer within 500 ms: killed (on_timeout)"), text)
                XCTAssertFalse(text.contains("by the operator"), text)
                XCTAssertTrue(text.contains("stopped, then on_timeout: killed pid"), text)
            }
        }
    }

    func testOneOffendingCommandIsOneViolation() throws {
        let out = dir.appendingPathComponent("o.jsonl").path
        let report = dir.appendingPathComponent("r.json").path
        let junit = dir.appendingPathComponent("j.xml").path
        let r = try runIn(
            dir.path,
            [
                "run", "--policy", policy, "-o", out, "--report", report, "--junit", junit, "--", "bash", "-c",
                "true; uname -r",
            ])
        XCTAssertEqual(r.status, 3, r.stderr)
        let events = Guard.jsonLines(try String(contentsOfFile: out, encoding: .utf8))
        let flagged = events.filter { $0["rule"] as? String == "uname-alert" }
        XCTAssertEqual(flagged.count, 2, "the shell (for its payload) and uname's own exec: \(flagged)")
        let shellPid = flagged.first?["pid"] as? Int
        XCTAssertNil(flagged.first?["carried_by"])
        XCTAssertEqual(flagged.last?["carried_by"] as? Int, shellPid)
        let summary = events.first { $0["type"] as? String == "summary" }
        XCTAssertEqual(summary?["violations"] as? Int, 1, "\(summary ?? [:])")
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        XCTAssertEqual((json?["violations"] as? [[String: Any]])?.count, 1)
        XCTAssertTrue(try String(contentsOfFile: junit, encoding: .utf8).contains("1 violation(s) of uname-alert"))
        XCTAssertTrue(r.stderr.contains("1 violation(s)"), r.stderr)
        // The issue's own example, on the embedded default (sudo is alerted).
        let sudo = try runIn(dir.path, ["run", "--", "bash", "-c", "true; sudo -n true"], timeout: 30)
        XCTAssertEqual(sudo.status, 3, sudo.stderr)
        XCTAssertTrue(sudo.stderr.contains("1 violation(s)\n"), sudo.stderr)
        XCTAssertTrue(sudo.stdout.contains("carried: one violation)"), sudo.stdout)
    }

    func testFailOnChoosesWhichViolationsFailTheRun() throws {
        for (args, code) in [
            (["--fail-on", "kill,stop"], Int32(0)), (["--fail-on", "alert"], 3), (["--fail-on-severity", "medium"], 0),
            (["--fail-on-severity", "low"], 3), ([], 3),
        ] {
            let r = try runIn(dir.path, ["run", "--policy", policy] + args + ["--", "uname"])
            XCTAssertEqual(r.status, code, "\(args): \(r.stderr)")
        }
        let killed = try runIn(dir.path, ["run", "--policy", policy, "--fail-on", "kill", "--", "sleep", "7.5"])
        XCTAssertEqual(killed.status, 3)
    }

    func testAWorkspaceOfRootOrHomeIsRefusedUnlessNamed() throws {
        let victim = dir.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        // The issue's example: from /, `run -- rm -rf DIR` was allowed (the workspace was /).
        let r = try runIn("/", ["run", "--", "rm", "-rf", victim.path])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("the workspace would be / (the whole file system)"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim.path))
        let home = try runIn(NSHomeDirectory(), ["run", "--", "true"])
        XCTAssertEqual(home.status, 64, home.stderr)
        XCTAssertTrue(home.stderr.contains("(a home directory)"), home.stderr)
        // Named, it runs, with a warning; the start line says what guards the run.
        let named = try runIn("/", ["run", "--workspace", "/", "--", "true"])
        XCTAssertEqual(named.status, 0, named.stderr)
        XCTAssertTrue(named.stderr.contains("warning: --workspace / is the whole file system"), named.stderr)
        let ok = try runIn(dir.path, ["run", "--", "true"])
        XCTAssertTrue(
            ok.stderr.contains(
                "policy default (embedded default), enforce mode, workspace \(realpathOf(dir.path)), "), ok.stderr)
        let p = try runIn(dir.path, ["run", "--policy", policy, "--audit", "--", "true"])
        XCTAssertTrue(p.stderr.contains("policy honest (\(policy)), audit mode, workspace "), p.stderr)
        XCTAssertTrue(p.stderr.contains(", 3 rules\n"), p.stderr)
        // -p of a process sitting in /.
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        sleeper.currentDirectoryURL = URL(fileURLWithPath: "/")
        try sleeper.run()
        defer { kill(sleeper.processIdentifier, SIGKILL) }
        let attach = try runIn(dir.path, ["-p", "\(sleeper.processIdentifier)", "--duration", "1"])
        XCTAssertEqual(attach.status, 64, attach.stderr)
    }

    func testHelpAndVersion() throws {
        for args in [["check", "--help"], ["check", "-h"]] {
            let r = try Guard.run(args)
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.contains("OVERVIEW: Show what the policy would do"), r.stdout)
            XCTAssertFalse(r.stdout.contains("allow:"), r.stdout)
        }
        XCTAssertTrue(try Guard.run(["check", "--", "--help"]).stdout.hasPrefix("allow: --help"))
        for args in [["--version"], ["version"]] {
            let r = try Guard.run(args)
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.hasPrefix("claude-guard "), r.stdout)
            XCTAssertTrue(r.stdout.contains("BPF object: claude_guard.bpf.o, "), r.stdout)
            XCTAssertTrue(r.stdout.contains(", build id "), r.stdout)
            XCTAssertTrue(r.stdout.contains("libbpf: v"), r.stdout)
        }
    }

    func testExecsnoopLongOptionsAndCgroupFilter() throws {
        let m = Guard.marker()
        let common = ["run", "--policy", policy, "--time", "--timestamp", "--print-uid", "--quote", "--uid", "root"]
        let shown = try runIn(
            dir.path,
            common + ["--name", "^echo$", "--line", m, "--", "sh", "-c", "/bin/echo \(m) >/dev/null; uname >/dev/null"])
        XCTAssertEqual(shown.status, 3, shown.stderr)
        let rows = shown.stdout.split(separator: "\n").filter { !$0.hasPrefix("!!") && !$0.contains("PCOMM") }
        XCTAssertEqual(rows.count, 1, shown.stdout)
        XCTAssertTrue(rows.first?.contains("\"\(m)\"") ?? false, shown.stdout)  // --quote
        // -c: only the tree's processes in that cgroup (or below) are shown; enforcement and logs see all.
        guard let root = cgroup2Mount() else { throw XCTSkip("no cgroup v2 mounted") }
        let empty = "\(root)/claude-guard-test-empty-\(getpid())"
        guard mkdir(empty, 0o755) == 0 else { throw XCTSkip("cannot make a cgroup in \(root)") }
        defer { rmdir(empty) }
        let hidden = try runIn(dir.path, ["run", "--policy", policy, "-c", empty, "--", "uname"])
        XCTAssertEqual(hidden.status, 3)
        XCTAssertFalse(hidden.stdout.contains("uname "), hidden.stdout)
        let all = try runIn(dir.path, ["run", "--policy", policy, "-c", root, "--", "uname"])
        XCTAssertTrue(all.stdout.contains("uname "), all.stdout)
        XCTAssertEqual(try runIn(dir.path, ["run", "-c", "/nonexistent", "--", "true"]).status, 64)
    }

    /// Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid hosts).
    func cgroup2Mount() -> String? {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2 && fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    func realpathOf(_ p: String) -> String {
        guard let r = realpath(p, nil) else { return p }
        defer { free(r) }
        return String(cString: r)
    }
}
