import Foundation
import XCTest

/// Interactive bash (issue 17) on the real kernel: a real `bash -i` on a pseudo-terminal under `claude-guard run`,
/// driven by Python's `pty` as a person (or an agent's terminal tool) would type into it. Every typed line is a
/// `bash` event; a denied line never runs, not even its builtins (the shell is killed while it is held, before
/// the line runs); ordinary lines, `cd` and `export` run.
final class BashLineTests: XCTestCase {
    var dir: URL!
    /// Victims outside every scratch place of the default policy: /srv/cg-bl-UUID.
    var victim: String!

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = try Guard.tempDir()
        victim = "/srv/cg-bl-" + UUID().uuidString.prefix(8)
        for d in ["tree", "protected"] {
            try FileManager.default.createDirectory(atPath: victim + "/" + d, withIntermediateDirectories: true)
        }
        try "precious\n".write(toFile: victim + "/tree/file", atomically: true, encoding: .utf8)
        try "precious\n".write(toFile: victim + "/protected/file", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if let victim { try? FileManager.default.removeItem(atPath: victim) }
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Kills recursive forced deletes, stops a marked `touch`, denies writes under the victim's `protected`.
    func policy() throws -> String {
        let path = dir.appendingPathComponent("policy.yaml").path
        try """
        version: 1
        name: bashline-test
        mode: enforce
        default: allow
        settings:
          hold_timeout_ms: 10000
          on_timeout: kill
        rules:
          - id: rm-recursive-force
            match: { command: rm, flags: [r|R|recursive, f|force] }
            action: kill
            severity: critical
          - id: stop-marked-touch
            match: { command: touch, args: ['*stopme*'] }
            action: stop
        files:
          - id: protected-writes
            paths: { under: ['\(victim!)/protected/*'] }
            access: [write, truncate, create]
            action: deny
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// What a session on a pseudo-terminal showed and logged.
    struct Session {
        var screen: String
        var events: [[String: Any]]
        var status: String
        var context: String { "\n--- screen:\n\(screen.suffix(6000))\n--- status: \(status)" }
        var lines: [[String: Any]] { events.filter { $0["type"] as? String == "bash" } }
    }

    /// Runs `claude-guard run ARGS -- bash --norc --noprofile -i` on a new pseudo-terminal, types each line after
    /// the prompt, then `exit`. A line after which the shell is gone ends the session. `@resume` and `@kill` answer
    /// the next process left stopped (a `stopped` record in the log) with `claude-guard resume|kill PID`. The
    /// driver kills the guard (its own child) if the session outlives its deadline; the guard's tree dies with it
    /// (run).
    func session(_ lines: [String], _ args: [String] = []) throws -> Session {
        let log = dir.appendingPathComponent("log-\(UUID().uuidString.prefix(6)).jsonl").path
        let input = dir.appendingPathComponent("lines-\(UUID().uuidString.prefix(6)).json").path
        try JSONSerialization.data(withJSONObject: lines + ["exit"]).write(to: URL(fileURLWithPath: input))
        let driver = """
            import json, os, pty, select, signal, subprocess, sys, time
            guard, log, lines = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
            args = sys.argv[4:]
            prompt = b"CGPROMPT$ "
            pid, fd = pty.fork()
            if pid == 0:
                env = dict(os.environ, PS1="CGPROMPT$ ", PS2="CGPROMPT$ ", HISTFILE="/dev/null", TERM="dumb", INPUTRC="/dev/null")
                os.execve(guard, [guard, "run", "-o", log] + args + ["--", "bash", "--norc", "--noprofile", "-i"], env)
            out, deadline, gone = b"", time.time() + 60, False
            def until(pred):
                global out, gone
                while time.time() < deadline and not pred():
                    r, _, _ = select.select([fd], [], [], 0.2)
                    if r:
                        try:
                            chunk = os.read(fd, 65536)
                        except OSError:
                            chunk = b""
                        if not chunk:
                            gone = True
                            return
                        out += chunk
            def stopped(handled):
                while time.time() < deadline:
                    for l in open(log).read().splitlines():
                        o = json.loads(l)
                        key = (o.get("type"), o.get("pid"))
                        if o.get("enforced") == "stopped" and key not in handled:
                            handled.add(key)
                            return o["pid"]
                    r, _, _ = select.select([fd], [], [], 0.2)
                    if r:
                        global out
                        try:
                            out += os.read(fd, 65536)
                        except OSError:
                            return None
                return None
            expect, handled = 1, set()
            until(lambda: out.count(prompt) >= expect)
            for i, line in enumerate(lines):
                if gone:
                    break
                if line.startswith("@"):
                    who = stopped(handled)
                    if who is not None:
                        subprocess.run([guard, line[1:], str(who)], check=False)
                    if i + 1 < len(lines) and lines[i + 1].startswith("@"):
                        continue
                    until(lambda: out.count(prompt) >= expect)
                    continue
                data = line.encode() + b"\\r"
                while data:
                    _, w, _ = select.select([], [fd], [], 1)
                    if w:
                        data = data[os.write(fd, data[:1024]):]
                expect += 1
                if i + 1 < len(lines) and lines[i + 1].startswith("@"):
                    continue
                until(lambda: out.count(prompt) >= expect)
            until(lambda: False)
            if time.time() >= deadline:
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            sys.stdout.write("\\nSTATUS %d\\n" % os.waitstatus_to_exitcode(status))
            """
        let r = try Guard.exec(Guard.python, ["-c", driver, Guard.binary, log, input] + args, timeout: 90)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let status = r.stdout.split(separator: "\n").last { $0.hasPrefix("STATUS ") }.map(String.init) ?? "none"
        return Session(screen: r.stdout + r.stderr, events: Guard.jsonLines(text), status: status)
    }

    func testTypedLinesAppearAndOrdinaryLinesCdAndExportRun() throws {
        let m = Guard.marker()
        let work = dir.appendingPathComponent("work").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let lines = [
            "cd \(work)", "export CGVAR=\(m)", "echo \"$CGVAR\" > out.txt", "pwd >> out.txt",
            "ls -la > /dev/null && echo listed-\(m)",
        ]
        let s = try session(lines, ["--policy", try policy()])
        let typed = s.lines.compactMap { $0["line"] as? String }
        XCTAssertEqual(typed, lines + ["exit"], "every typed line is a bash event, in order" + s.context)
        let out = try String(contentsOfFile: work + "/out.txt", encoding: .utf8)
        XCTAssertEqual(out, "\(m)\n\(work)\n", "cd and export took effect, the redirections ran")
        XCTAssertTrue(s.screen.contains("listed-\(m)"), "an ordinary command ran" + s.context)
        XCTAssertTrue(s.screen.contains("BASH | export CGVAR=\(m)"), "text output shows BASH | line" + s.context)
        let afterCd = try XCTUnwrap(s.lines.first { $0["line"] as? String == "export CGVAR=\(m)" })
        XCTAssertEqual(afterCd["cwd"] as? String, work, "a line's cwd is where it runs")
        XCTAssertTrue((afterCd["tty"] as? String ?? "").hasPrefix("pts/"), "the shell's terminal: \(afterCd)")
        XCTAssertEqual(afterCd["truncated"] as? Bool, false)
        XCTAssertEqual(s.status, "STATUS 0", s.context)
        let summary = try XCTUnwrap(s.events.last { $0["type"] as? String == "summary" })
        XCTAssertEqual(summary["bash_lines"] as? Int, lines.count + 1)
        XCTAssertEqual(summary["violations"] as? Int, 0, s.context)
    }

    func testRecursiveDeleteTypedIsDeniedBeforeTheLineRuns() throws {
        let ran = dir.appendingPathComponent("ran-first").path
        let s = try session(["echo ran > \(ran); rm -rf \(victim!)/tree", "echo never > \(ran)-2"], ["--policy", try policy()])
        XCTAssertEqual(try String(contentsOfFile: victim + "/tree/file", encoding: .utf8), "precious\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran), "the builtin before the rm ran" + s.context)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran + "-2"), "the shell lived on" + s.context)
        let v = try XCTUnwrap(s.lines.first { $0["rule"] != nil }, s.context)
        XCTAssertEqual(v["rule"] as? String, "rm-recursive-force")
        XCTAssertEqual(v["enforced"] as? String, "killed")
        XCTAssertEqual(v["matched"] as? String, "rm -rf \(victim!)/tree")
        XCTAssertEqual(s.events.filter { $0["type"] as? String == "exec" && $0["comm"] as? String == "rm" }.count, 0,
            "rm was never exec'd" + s.context)
        XCTAssertEqual(s.status, "STATUS 3", "a violation: run exits 3" + s.context)
    }

    func testRedirectionIntoAProtectedFileIsDeniedBeforeTheLineRuns() throws {
        let ran = dir.appendingPathComponent("ran-first").path
        let s = try session(["echo ran > \(ran); echo x > \(victim!)/protected/file"], ["--policy", try policy()])
        XCTAssertEqual(try String(contentsOfFile: victim + "/protected/file", encoding: .utf8), "precious\n")
        // Landlock alone would refuse the write and let the shell and the first echo live.
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran), "the line ran in part" + s.context)
        let v = try XCTUnwrap(s.lines.first { $0["rule"] != nil }, s.context)
        XCTAssertEqual(v["rule"] as? String, "protected-writes")
        XCTAssertEqual(v["enforced"] as? String, "killed")
    }

    func testAliasAndFunctionDefinedEarlierAreJudgedWhereCalled() throws {
        let s1 = try session(["alias wipe='rm -rf \(victim!)/tree'", "echo defined", "wipe"], ["--policy", try policy()])
        XCTAssertEqual(try String(contentsOfFile: victim + "/tree/file", encoding: .utf8), "precious\n")
        let v1 = try XCTUnwrap(s1.lines.first { $0["rule"] != nil }, s1.context)
        XCTAssertEqual(v1["line"] as? String, "wipe", "the alias's call is the denied line")
        XCTAssertEqual(v1["enforced"] as? String, "killed")

        let ran = dir.appendingPathComponent("ran-fn").path
        let s2 = try session(
            ["save() { echo x > \"$1\"; }", "save \(ran)", "echo ran > \(ran)-2; save \(victim!)/protected/file"],
            ["--policy", try policy()])
        XCTAssertTrue(FileManager.default.fileExists(atPath: ran), "an allowed call of the function ran" + s2.context)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran + "-2"), "the denied line ran in part" + s2.context)
        XCTAssertEqual(try String(contentsOfFile: victim + "/protected/file", encoding: .utf8), "precious\n")
    }

    func testLineLongerThanTheKernelCopiesIsFlaggedAndJudgedWhole() throws {
        let m = Guard.marker()
        let pad = String(repeating: "a", count: 17_000)
        let long = ": \(pad); echo tail-\(m)"
        let s = try session([long, ": \(pad); rm -rf \(victim!)/tree"], ["--policy", try policy()])
        let first = try XCTUnwrap(s.lines.first, s.context)
        XCTAssertEqual(first["truncated"] as? Bool, true, "a line over 16 KiB is flagged")
        XCTAssertEqual((first["line"] as? String)?.utf8.count, 16383, "its head is reported")
        XCTAssertTrue(s.screen.contains("tail-\(m)"), "an allowed long line runs" + s.context)
        // The rm is past what the kernel copied: the guard reads the held shell's line whole.
        XCTAssertEqual(try String(contentsOfFile: victim + "/tree/file", encoding: .utf8), "precious\n")
        let v = try XCTUnwrap(s.lines.first { $0["rule"] != nil }, s.context)
        XCTAssertEqual(v["rule"] as? String, "rm-recursive-force")
    }

    func testCommandOverSeveralLinesIsJudgedWhole() throws {
        // Neither line alone writes the protected file; bash runs the two as one command.
        let ran = dir.appendingPathComponent("ran-first").path
        let s = try session(
            ["echo ran > \(ran); echo \"start", "end\" > \(victim!)/protected/file"], ["--policy", try policy()])
        XCTAssertEqual(try String(contentsOfFile: victim + "/protected/file", encoding: .utf8), "precious\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran), "the command ran in part" + s.context)
        XCTAssertEqual(s.lines.count, 2, s.context)
        XCTAssertNil(s.lines.first?["rule"], "the first line alone is let through: nothing runs yet")
        XCTAssertEqual(s.lines.last?["rule"] as? String, "protected-writes", s.context)

        let loop = try session(["for d in tree; do", "rm -rf \(victim!)/$d", "done"], ["--policy", try policy()])
        XCTAssertEqual(try String(contentsOfFile: victim + "/tree/file", encoding: .utf8), "precious\n")
        XCTAssertNotNil(loop.lines.first { $0["rule"] != nil }, "the loop is denied once its rm is read" + loop.context)
    }

    func testStoppedLineRunsOnlyWhenResumed() throws {
        let ran = dir.appendingPathComponent("ran").path
        let killed = try session(["echo ran > \(ran)-k; touch \(ran)-stopme-k", "@kill"], ["--policy", try policy()])
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran + "-k"), "killed while stopped" + killed.context)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran + "-stopme-k"), killed.context)
        let v = try XCTUnwrap(killed.lines.first { $0["rule"] != nil }, killed.context)
        XCTAssertEqual(v["enforced"] as? String, "stopped")

        // Resumed, the line runs; its touch is the same command: stopped at its exec, resumed again. Without job
        // control (set +m) the shell waits for the held touch instead of making it a stopped job.
        let resumed = try session(
            ["set +m", "echo ran > \(ran)-r; touch \(ran)-stopme-r", "@resume", "@resume", "echo after"],
            ["--policy", try policy()])
        XCTAssertTrue(FileManager.default.fileExists(atPath: ran + "-r"), "resumed: the line ran" + resumed.context)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ran + "-stopme-r"), resumed.context)
        XCTAssertEqual(resumed.lines.last?["line"] as? String, "exit", resumed.context)
    }

    func testNoBashFlagTurnsTheLinesOff() throws {
        let m = Guard.marker()
        let s = try session(["echo shown-\(m)"], ["--policy", try policy(), "-B"])
        XCTAssertTrue(s.screen.contains("shown-\(m)"), s.context)
        XCTAssertEqual(s.lines.count, 0, "-B: no bash events" + s.context)
    }

    func testShellWithoutReadlineIsNamed() throws {
        let r = try Guard.run(["run", "--", "dash", "-i"])
        XCTAssertTrue(r.stderr.contains("dash, which has no readline"), r.stderr)
    }
}
