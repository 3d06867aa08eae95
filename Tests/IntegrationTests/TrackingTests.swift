import Foundation
import XCTest

/// The guard sees every exec of the tree it guards, on the real kernel, and nothing else.
final class TrackingTests: XCTestCase {
    override func setUpWithError() throws { try Guard.requireRoot() }

    func testRunReportsEveryExecWithRealPathArgvAndCwd() throws {
        let m = Guard.marker()
        let dir = try Guard.tempDir()
        let r = try Guard.run([
            "run", "--format", "json", "--", "bash", "-c",
            "cd \(dir.path) && /bin/true \(m) 'two words'; ls \(m)-nofile 2>/dev/null; exit 0",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let events = Guard.jsonLines(r.stdout)
        let t = try XCTUnwrap(
            Guard.execs(events, containing: m).first { ($0["argv"] as? [String])?.first == "/bin/true" })
        XCTAssertEqual(t["argv"] as? [String], ["/bin/true", m, "two words"])
        XCTAssertEqual(t["path"] as? String, URL(fileURLWithPath: "/bin/true").resolvingSymlinksInPath().path)
        XCTAssertEqual(t["filename"] as? String, "/bin/true")
        XCTAssertEqual(t["cwd"] as? String, dir.path)
        XCTAssertEqual(t["comm"] as? String, "true")
        XCTAssertEqual(t["truncated"] as? Bool, false)
        for key in ["time", "pid", "ppid", "uid", "gid", "cgroup_id", "root", "mono_ns"] {
            XCTAssertNotNil(t[key], key)
        }
        XCTAssertEqual(Guard.execs(events, containing: "\(m)-nofile").count, 1, "ls is reported too")
        // exit events with status, and a summary at the end.
        XCTAssertTrue(events.contains { $0["type"] as? String == "exit" && $0["pid"] as? Int == t["pid"] as? Int })
        XCTAssertEqual(events.last?["type"] as? String, "summary")
    }

    func testEveryExecIsReceivedWithAndWithoutBusyPolling() throws {
        // Most records are submitted without waking the reader; none may be missed either way.
        for extra in [[], ["--busy-poll", "2000"]] {
            let r = try Guard.run(
                ["run", "--format", "json"] + extra + ["--", "bash", "-c", "for i in $(seq 200); do /bin/true; done"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let events = Guard.jsonLines(r.stdout)
            let trues = events.filter { $0["type"] as? String == "exec" && ($0["argv"] as? [String]) == ["/bin/true"] }
            XCTAssertEqual(trues.count, 200, "\(extra)")
            XCTAssertEqual(events.last?["execs"] as? Int, 202, "\(extra): bash, seq and 200 true")
            XCTAssertEqual(events.last?["lost"] as? Int, 0)
        }
    }

    func testDoubleForkedDaemonThatExecsLaterStaysTracked() throws {
        let m = Guard.marker()
        // The grandchild is orphaned (its parent exits at once) and execs once it is, and the command has exited.
        let r = try Guard.run([
            "run", "--keep-descendants", "--format", "json", "--", "bash", "-c",
            Guard.orphaned("exec /bin/true \(m)-daemon"),
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try XCTUnwrap(Guard.execs(Guard.jsonLines(r.stdout), containing: "\(m)-daemon").first, r.stdout)
        XCTAssertNotEqual(e["ppid"] as? Int, 1, "reparented to the guard (subreaper), not lost")
    }

    func testSetsidAndNohupChildrenStayTracked() throws {
        let m = Guard.marker()
        let r = try Guard.run([
            "run", "--keep-descendants", "--format", "json", "--", "bash", "-c",
            "setsid sh -c 'exec /bin/true \(m)-setsid' & nohup /bin/true \(m)-nohup >/dev/null 2>&1 & wait",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let events = Guard.jsonLines(r.stdout)
        XCTAssertEqual(Guard.execs(events, containing: "\(m)-setsid").count, 1, r.stdout)
        XCTAssertEqual(
            Guard.execs(events, containing: "\(m)-nohup").map { ($0["argv"] as? [String])?.first },
            ["nohup", "/bin/true"])
    }

    func testDescendantsStillAliveWhenTheCommandExitsAreTerminatedAndListed() throws {
        let m = Guard.marker()
        let r = try Guard.run([
            "run", "--grace", "0.5", "--format", "json", "--", "bash", "-c", "sleep 30 & exec /bin/true \(m)",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try XCTUnwrap(Guard.jsonLines(r.stdout).last)
        XCTAssertEqual((summary["leftover_descendants"] as? [Any])?.count, 1, r.stdout)
    }

    func testSymlinkExecReportsTheRealPath() throws {
        let m = Guard.marker()
        let dir = try Guard.tempDir()
        let link = dir.appendingPathComponent("innocent").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/bin/true")
        let r = try Guard.run(["run", "--format", "json", "--", link, m])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try XCTUnwrap(Guard.execs(Guard.jsonLines(r.stdout), containing: m).first)
        XCTAssertEqual(e["filename"] as? String, link)
        XCTAssertEqual(e["path"] as? String, URL(fileURLWithPath: "/bin/true").resolvingSymlinksInPath().path)
    }

    func testFexecveOfAMemfdIsSeenAsMemfd() throws {
        let m = Guard.marker()
        let script = """
            import os
            fd = os.memfd_create("cgtest", 0)
            os.write(fd, open("/bin/true", "rb").read())
            os.execve(fd, ["fileless", "\(m)"], {})
            """
        let r = try Guard.run(["run", "--format", "json", "--", Guard.python, "-c", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try XCTUnwrap(Guard.execs(Guard.jsonLines(r.stdout), containing: m).first, r.stdout)
        XCTAssertEqual(e["argv"] as? [String], ["fileless", m])
        let path = try XCTUnwrap(e["path"] as? String)
        XCTAssertTrue(path.contains("memfd:cgtest"), path)
        XCTAssertTrue(path.hasSuffix("(deleted)"), path)
    }

    func testHundredKiBArgumentIsTruncatedAndFlagged() throws {
        let big = String(repeating: "A", count: 100 * 1024)
        let r = try Guard.run(["run", "--format", "json", "--", "/bin/true", "start", big])
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try XCTUnwrap(Guard.execs(Guard.jsonLines(r.stdout), containing: "start").first)
        XCTAssertEqual(e["truncated"] as? Bool, true)
        let argv = try XCTUnwrap(e["argv"] as? [String])
        XCTAssertEqual(argv.prefix(2), ["/bin/true", "start"])
        XCTAssertGreaterThanOrEqual(argv[2].count, 4096, "at least 4 KiB of argv")
        XCTAssertTrue(argv[2].allSatisfy { $0 == "A" })
    }

    func testNewlinesQuotesAndInvalidUTF8AreValidJSONAndRecoverable() throws {
        let dir = try Guard.tempDir()
        let out = dir.appendingPathComponent("events.jsonl").path
        // python passes the bytes through untouched (argv as bytes).
        let script = """
            import os, sys
            os.execv(b"/bin/true", [b"/bin/true", b"line1\\nline2", b"quote\\"back\\\\slash", b"bad\\xff\\xfe\\x80utf8", b"tab\\there"])
            """
        let r = try Guard.run(["run", "-o", out, "--", Guard.python, "-c", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let e = try XCTUnwrap(Guard.jsonLines(text).first { ($0["argv"] as? [String])?.first == "/bin/true" })
        let argv = try XCTUnwrap(e["argv"] as? [String])
        XCTAssertEqual(argv[1], "line1\nline2")
        XCTAssertEqual(argv[2], "quote\"back\\slash")
        XCTAssertEqual(argv[4], "tab\there")
        let b64 = try XCTUnwrap(e["argv_b64"] as? [String], "invalid UTF-8 carries exact bytes")
        XCTAssertEqual(Data(base64Encoded: b64[3]), Data([0x62, 0x61, 0x64, 0xFF, 0xFE, 0x80, 0x75, 0x74, 0x66, 0x38]))
        XCTAssertEqual(Data(base64Encoded: b64[1]), Data("line1\nline2".utf8))
        // The text output stays one line per event.
        let t = try Guard.run(["run", "--", Guard.python, "-c", script])
        let line = try XCTUnwrap(t.stdout.split(separator: "\n").first { $0.contains("line1") })
        XCTAssertTrue(line.contains("line1\\nline2") && line.contains("bad\\xff\\xfe\\x80utf8"), String(line))
    }

    func testProcessOutsideTheTreeIsNotReported() throws {
        let m = Guard.marker()
        let gate = try Guard.Gate(in: try Guard.tempDir())
        let bg = try Guard.Background([
            "run", "--format", "json", "--", "bash", "-c", "\(gate.wait); /bin/true \(m)-inside",
        ])
        try bg.waitReady()
        try Guard.exec("/bin/true", ["\(m)-outside"])
        XCTAssertTrue(gate.open(), bg.stderr)
        XCTAssertEqual(bg.wait(), 0, bg.stderr)
        let events = Guard.jsonLines(bg.stdout)
        XCTAssertEqual(Guard.execs(events, containing: "\(m)-inside").count, 1)
        XCTAssertEqual(Guard.execs(events, containing: "\(m)-outside").count, 0)
    }

    func testPidModeSeesAPreexistingChildThatExecsAfterAttach() throws {
        let m = Guard.marker()
        // The agent: a bash whose subshell child exists before the guard attaches and execs once let go.
        let dir = try Guard.tempDir()
        let gate = try Guard.Gate(in: dir)
        let forked = dir.appendingPathComponent("forked").path
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/bin/bash")
        agent.arguments = ["-c", "(: > \(forked); \(gate.wait); exec /bin/true \(m)-late) & wait"]
        try agent.run()
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) }; agent.waitUntilExit() }
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: forked) && Date() < deadline { usleep(10_000) }
        let bg = try Guard.Background(["-p", String(agent.processIdentifier), "--format", "json"])
        try bg.waitReady()
        XCTAssertTrue(gate.open(), bg.stderr)
        XCTAssertEqual(bg.wait(), 0, "exits 0 when the tree is gone: \(bg.stderr)")
        let e = try XCTUnwrap(Guard.execs(Guard.jsonLines(bg.stdout), containing: "\(m)-late").first, bg.stdout)
        XCTAssertEqual(e["root"] as? Int, Int(agent.processIdentifier))
    }

    func testFailedExecIsShownWithX() throws {
        let m = Guard.marker()
        let script = "import os\ntry: os.execv('/nonexistent/\(m)', ['\(m)'])\nexcept OSError: pass\n"
        let r = try Guard.run(["run", "-x", "--format", "json", "--", Guard.python, "-c", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let failed = Guard.jsonLines(r.stdout).filter { $0["type"] as? String == "exec-failed" }
        let e = try XCTUnwrap(failed.first { ($0["filename"] as? String)?.contains(m) == true }, r.stdout)
        XCTAssertEqual(e["error"] as? String, "ENOENT")
        XCTAssertEqual(e["errno"] as? Int, 2)
        XCTAssertEqual(e["argv"] as? [String], [m])
        // Without -x the failure is not reported.
        let quiet = try Guard.run(["run", "--format", "json", "--", Guard.python, "-c", script])
        XCTAssertFalse(quiet.stdout.contains("exec-failed"))
    }

    func testTextOutputColumnsAndShellPayloadUnwrapped() throws {
        let m = Guard.marker()
        let r = try Guard.run(["run", "-T", "-U", "-q", "--", "sh", "-c", "/bin/true \(m) x"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("TIME     UID    PCOMM") == true, r.stdout)
        XCTAssertTrue(lines.contains { $0.contains("EXEC | /bin/true \(m) x") }, r.stdout)
        XCTAssertTrue(lines.contains { $0.contains("\"/bin/true\" \"\(m)\" \"x\"") }, r.stdout)
        // -n filters what is shown.
        let f = try Guard.run(["run", "-n", "^true$", "--", "sh", "-c", "/bin/true \(m); /bin/echo \(m) >/dev/null"])
        XCTAssertTrue(f.stdout.contains("/bin/true \(m)"))
        XCTAssertFalse(f.stdout.contains("/bin/echo"), f.stdout)
    }
}

/// `run` exits with the command's status, and errors are one paragraph with a non-3 code.
final class ExitCodeAndErrorTests: XCTestCase {
    override func setUpWithError() throws { try Guard.requireRoot() }

    func testRunPassesTheExitCodeThrough() throws {
        XCTAssertEqual(try Guard.run(["run", "--", "sh", "-c", "exit 7"]).status, 7)
        XCTAssertEqual(try Guard.run(["run", "--", "true"]).status, 0)
        XCTAssertEqual(try Guard.run(["run", "--", "sh", "-c", "kill -9 $$"]).status, 137)
    }

    func testUnknownCommandIs127() throws {
        let r = try Guard.run(["run", "--", "no-such-command-\(Guard.marker())"])
        XCTAssertEqual(r.status, 127)
        XCTAssertTrue(r.stderr.contains("could not start"), r.stderr)
    }

    func testNonRootGetsAClearErrorAndNoProcessRuns() throws {
        let dir = try Guard.tempDir()
        let victim = dir.appendingPathComponent("ran").path
        let r = try Guard.exec(
            "/usr/bin/setpriv",
            ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups", Guard.binary, "run", "--", "touch", victim])
        XCTAssertEqual(r.status, 77, r.stderr)
        XCTAssertTrue(r.stderr.contains("needs root"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim), "the command must not run unguarded")
    }

    func testAnInvalidPolicyNeverHalfLoadsAndNothingRuns() throws {
        let dir = try Guard.tempDir()
        let policy = dir.appendingPathComponent("bad.yaml").path
        try "version: 1\nname: bad\nrules:\n  - id: x\n    match: { command: rm, flagz: [r] }\n    action: kill\n"
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let victim = dir.appendingPathComponent("ran").path
        let r = try Guard.run(["run", "--policy", policy, "--", "touch", victim])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("\(policy):5:27: unknown key 'flagz'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("The guard did not start."), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim), "the command must not run unguarded")
        let p = try Guard.run(["-p", String(getpid()), "--policy", policy])
        XCTAssertEqual(p.status, 2, p.stderr)
    }

    func testUnknownPid() throws {
        let r = try Guard.run(["-p", "999999999"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("No process with PID 999999999"), r.stderr)
    }

    func testBPFUnavailableInAUserNamespace() throws {
        // Root inside a new user namespace has no BPF rights in the real one (as in many containers).
        let r = try Guard.exec("/usr/bin/unshare", ["-U", "-r", Guard.binary, "run", "--", "true"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("refused to create BPF objects"), r.stderr)
    }

    func testMissingBTF() throws {
        let r = try Guard.run(["run", "--", "true"], env: ["CLAUDE_GUARD_BTF": "/nonexistent/vmlinux"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("No kernel BTF at /nonexistent/vmlinux"), r.stderr)
    }

    func testLoadFailureShowsTheLogTail() throws {
        let dir = try Guard.tempDir()
        let bad = dir.appendingPathComponent("bad.btf")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: bad)
        let r = try Guard.run(["run", "--", "true"], env: ["CLAUDE_GUARD_BTF": bad.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("failed to load"), r.stderr)
        XCTAssertTrue(r.stderr.contains("libbpf:"), "shows libbpf's last lines: \(r.stderr)")
    }

    func testNothingStaysAttachedAfterExit() throws {
        _ = try Guard.run(["run", "--", "true"])
        // The kernel frees programs asynchronously after the last fd closes: allow it a moment.
        var progs = try Guard.exec("/usr/sbin/bpftool", ["prog", "show"])
        for _ in 0..<50 where progs.stdout.contains("handle_exec") {
            usleep(100_000)
            progs = try Guard.exec("/usr/sbin/bpftool", ["prog", "show"])
        }
        XCTAssertFalse(progs.stdout.contains("handle_exec"), progs.stdout)
        let links = try Guard.exec("/usr/sbin/bpftool", ["link", "show"])
        XCTAssertFalse(links.stdout.contains("handle_"), links.stdout)
    }
}
