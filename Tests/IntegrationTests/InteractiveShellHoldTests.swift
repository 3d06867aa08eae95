import Foundation
import XCTest

/// Issue 12 class 8, the interactive-shell case: a hold is invisible to an interactive bash with job control in a
/// pty. The guard's job-control tracer seizes such a shell at its exec, so the SIGSTOP of a hold in its tree is a
/// ptrace stop the shell never hears of (jobtrace.c): an allowed foreground command stays in the foreground, reads
/// the terminal and gives its own exit status; a denied one is killed; Ctrl-Z still stops a job and `fg` brings it
/// back; and a guard killed while a command is held does not let it run. Once with the readline probe (each
/// typed line is held too), once without (-B, exec holds alone, and the denied line: with the probe it would kill
/// the whole shell before the line runs, issue 17, which BashLineTests covers).
final class InteractiveShellHoldTests: XCTestCase {
    /// Drives `bash -i` in a pty: the first argument is a file the transcript is written to as it grows (the guard
    /// may be killed, and this driver with it); each next one is `TEXT` to type, then what to wait for
    /// (`TEXT\tA|B`: all of A and B in the output since it was typed; `?` before the text: type it again every
    /// half second until they appear). `!reading NAME` waits until a child NAME of the shell runs, asleep (in
    /// its read), not stopped; `!park NAME` until one is parked in a ptrace stop (state `t`), then writes
    /// `parked=PID` and kills the guard (this driver's parent) with SIGKILL, which kills this driver too (a tree
    /// process signalling its guard: settings.tamper). Prints the whole transcript; a wait that times out is
    /// written into it.
    static let driver = #"""
        import os, pty, sys, time, select, signal
        log = open(sys.argv[1], "wb", buffering=0)
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["PS1"] = "PROMPT$ "
            os.execv("/bin/bash", ["bash", "--norc", "--noprofile", "-i"])
        out = b""
        def add(d):
            global out
            out += d
            log.write(d)
        def read(secs):
            r, _, _ = select.select([fd], [], [], secs)
            if r:
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    return False
                if not d:
                    return False
                add(d)
            return True
        def wait(start, pats, deadline, resend=None):
            last = time.time()
            while time.time() < deadline:
                text = out[start:].decode(errors="replace")
                if all(p in text for p in pats):
                    return True
                if resend and time.time() - last > 0.5:
                    os.write(fd, resend)
                    last = time.time()
                if not read(0.1):
                    return False
            return False
        def child(name, states):
            for p in os.listdir("/proc"):
                try:
                    st = open("/proc/%s/stat" % p).read()
                except (OSError, ValueError):
                    continue
                comm, rest = st[st.index("(") + 1:st.rindex(")")], st[st.rindex(")") + 2:].split()
                if comm == name and int(rest[1]) == pid and rest[0] in states:
                    return int(p)
            return None
        def await_child(name, states):
            deadline = time.time() + 30
            while time.time() < deadline and not child(name, states):
                read(0.02)
            found = child(name, states)
            if not found:
                add(("\n<TIMEOUT waiting for %s in %s>\n" % (name, states)).encode())
            return found
        wait(0, ["PROMPT$ "], time.time() + 30)
        for step in sys.argv[2:]:
            if step.startswith("!park "):
                add(("\nparked=%s\n" % await_child(step[6:], "t")).encode())
                add(b"\nguard-killed\n")  # first: this driver is of the tree, and dies with it (settings.tamper)
                os.kill(os.getppid(), signal.SIGKILL)
                continue
            if step.startswith("!reading "):
                await_child(step[9:], "S")
                continue
            text, _, pats = step.partition("\t")
            again = text.startswith("?")
            line = (text[1:] if again else text).encode() + b"\n"
            start = len(out)
            os.write(fd, line)
            if pats and not wait(start, pats.split("|"), time.time() + 30, line if again else None):
                add(("\n<TIMEOUT waiting for %r>\n" % pats).encode())
        for _ in range(3):
            try:
                os.write(fd, b"exit\n")
            except OSError:
                break
            start = len(out)
            wait(start, ["\x00never"], time.time() + 1)
        while read(0.5):
            pass
        os.kill(pid, 9) if os.waitpid(pid, os.WNOHANG) == (0, 0) else None
        sys.stdout.write(out.decode(errors="replace"))
        """#

    static let policy = """
        version: 1
        name: interactive-test
        mode: enforce
        default: allow
        settings:
          hold_timeout_ms: 60000
          on_timeout: kill
        rules:
          - id: rm-recursive-force
            match: { command: rm, flags: [r|R|recursive, f|force] }
            action: kill
          # Named by an acting rule, so every exec of them is held (and allowed: the argument is never given).
          # Traced by the guard's own tracer at that exec: not a traced_exec risk (kill by default).
          - id: held-never-matches
            match: { command: [cat, head], args: ['never-given-xyz'] }
            action: kill
          # Left stopped (held) until resume|kill or on_timeout: the guard is killed meanwhile.
          - id: stop-touch
            match: { command: touch }
            action: stop
        """

    /// Steps every run has: an allowed command, one that reads the terminal, and Ctrl-Z, `jobs`, `fg` on a third.
    static func commonSteps(mark: String, markFile: String) -> [String] {
        // `status""-x=`: what is waited for is the output, not the echo of the typed line.
        [
            "cat \(markFile); echo \"status\"\"-a=$?\"\tstatus-a=|\(mark)",
            // A reader of the terminal in the foreground (in the background it would stop on SIGTTIN).
            "head -c 3; echo \"status\"\"-h=$?\"",
            "!reading head",
            "abc\tstatus-h=",
            // A job stopped by the user with ^Z, listed, brought back with fg, ended by EOF: fg gives its status.
            "cat",
            "!reading cat",
            "\u{1A}\tStopped",
            "jobs -l; echo jobs\"\"-listed\tjobs-listed",
            "fg",
            "!reading cat",
            "\u{4}",
            "echo \"status\"\"-z=$?\"\tstatus-z=",
        ]
    }

    /// One guarded run of the driver; returns the transcript (from the file: the guard may kill the driver) and
    /// the guard's result.
    func drive(_ steps: [String], noBash: Bool, dir: URL) throws -> (String, Guard.Result) {
        let driver = dir.appendingPathComponent("drive.py").path
        let policy = dir.appendingPathComponent("policy.yaml").path
        let transcript = dir.appendingPathComponent("transcript-\(noBash)").path
        try Self.driver.write(toFile: driver, atomically: true, encoding: .utf8)
        try Self.policy.write(toFile: policy, atomically: true, encoding: .utf8)
        let violations = dir.appendingPathComponent("violations-\(noBash).jsonl").path
        let r = try Guard.run(
            ["run", "-q"] + (noBash ? ["-B"] : []) + ["--policy", policy, "--violations", violations, "--"]
                + [Guard.python, driver, transcript] + steps, timeout: 120)
        return ((try? String(contentsOfFile: transcript, encoding: .utf8)) ?? "", r)
    }

    /// The assertions of commonSteps.
    func checkCommon(_ t: String, mark: String) {
        XCTAssertFalse(t.contains("<TIMEOUT"), "the shell or a held command hung:\n\(t)")
        // The held commands ran in the foreground to their own end: no `Stopped`, their own status.
        XCTAssertTrue(t.contains("status-a=0"), t)
        XCTAssertTrue(t.contains(mark), t)
        XCTAssertTrue(t.contains("status-h=0"), t)
        XCTAssertFalse(t.contains("status-a=147") || t.contains("Stopped (tty input)"), t)
        // Ctrl-Z stopped the job (the only `Stopped` the shell reports), `fg` brought it back, EOF ended it.
        XCTAssertEqual(t.components(separatedBy: "Stopped").count - 1, 2, "once for ^Z, once in jobs:\n\(t)")
        XCTAssertTrue(t.contains("status-z=0"), t)
    }

    /// A temporary directory holding `mark`, a file whose one line the foreground `head` must read.
    static func markFixture() throws -> (dir: URL, mark: String, markFile: String) {
        try Guard.requireRoot()
        let dir = try Guard.tempDir()
        let mark = "content-\(Guard.marker())"
        let markFile = dir.appendingPathComponent("mark").path
        try (mark + "\n").write(toFile: markFile, atomically: true, encoding: .utf8)
        return (dir, mark, markFile)
    }

    func testHeldCommandsStayInTheForegroundWithTheReadlineProbe() throws {
        let (dir, mark, markFile) = try Self.markFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (t, r) = try drive(Self.commonSteps(mark: mark, markFile: markFile), noBash: false, dir: dir)
        checkCommon(t, mark: mark)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testHeldCommandsStayInTheForegroundADeniedOneIsKilledAndALostGuardRunsNothing() throws {
        let (dir, mark, markFile) = try Self.markFixture()
        defer { try? FileManager.default.removeItem(at: dir) }
        let victim = dir.appendingPathComponent("victim").path
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try "precious".write(toFile: victim + "/file", atomically: true, encoding: .utf8)
        let ran = dir.appendingPathComponent("ran-after-the-guard-was-lost").path
        let steps =
            Self.commonSteps(mark: mark, markFile: markFile) + [
                // A denied one is killed while held.
                "rm -rf \(victim); echo \"status\"\"-k=$?\"\tstatus-k=",
                // Held by a `stop` verdict when the guard is killed: it must never run.
                "touch \(ran); echo \"status\"\"-t=$?\"",
                "!park touch",
            ]
        let (t, r) = try drive(steps, noBash: true, dir: dir)
        checkCommon(t, mark: mark)
        XCTAssertTrue(t.contains("status-k=137"), t)
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim + "/file"), t)
        let logged = Guard.jsonLines(
            (try? String(contentsOfFile: dir.appendingPathComponent("violations-true.jsonl").path, encoding: .utf8))
                ?? "")
        XCTAssertTrue(
            logged.contains { $0["rule"] as? String == "rm-recursive-force" && $0["enforced"] as? String == "killed" },
            "\(logged)")
        // The guard was killed while touch was parked in its tracer: the held touch is gone, and ran nothing.
        let parked = t.components(separatedBy: "parked=").dropFirst().first.flatMap { Int32($0.prefix { $0.isNumber }) }
        XCTAssertNotNil(parked, t)
        XCTAssertTrue(t.contains("guard-killed"), t)
        XCTAssertEqual(r.status, SIGKILL, r.stderr)
        if let parked { XCTAssertTrue(Guard.waitGone(parked), "the held touch outlived the guard") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: ran), t)
    }
}
