import Foundation
import XCTest

/// Escapes from the tree (issue 12, class 6): a process that keeps forking new PIDs does not outlive `run`,
/// and the kernel's run-a-helper-as-root files are not written by the tree (shipped policies).
final class EscapeTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = try Guard.tempDir()
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    var repoPolicies: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies").path
    }

    func testAProcessHoppingPIDsDoesNotOutliveRun() throws {
        let victim = "/srv/cg-escape-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: victim) }
        try "precious".write(toFile: victim + "/file", atomically: true, encoding: .utf8)
        let go = dir.appendingPathComponent("go").path
        // Every step forks a new process and the old one exits: the PID changes all the time. Once `go`
        // exists it overwrites the victim with a shell builtin (no exec for a command rule to see).
        let hop = "f() { [ -e \(go) ] && echo pwned > \(victim)/file; (sleep 0.005; f) & }; f; wait"
        let r = try Guard.run(["run", "--grace", "0.2", "--", "bash", "-c", "bash -c '\(hop)' </dev/null >/dev/null 2>&1 & exit 0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Every hopping process carries `go` in its argv: none may be left once run has returned.
        let left = Guard.waitUntil { Guard.processes(containing: go).isEmpty }
        for pid in Guard.processes(containing: go) { kill(pid, SIGKILL) }
        XCTAssertTrue(left, "a descendant outlived run")
        FileManager.default.createFile(atPath: go, contents: nil)
        XCTAssertEqual(
            try String(contentsOfFile: victim + "/file", encoding: .utf8), "precious",
            "a descendant outlived run and wrote the victim")
        XCTAssertTrue(r.stderr.contains("terminated leftover"), r.stderr)
    }

    func testTheTreeCannotMakeTheKernelRunAHelper() throws {
        let pattern = "/proc/sys/kernel/core_pattern"
        let before = try String(contentsOfFile: pattern, encoding: .utf8)
        // Should the guard fail, put the machine's setting back.
        addTeardownBlock {
            if let now = try? String(contentsOfFile: pattern, encoding: .utf8), now != before {
                try? before.write(toFile: pattern, atomically: false, encoding: .utf8)
            }
        }
        for policy in ["default", "strict"] {
            let r = try Guard.run([
                "run", "--policy", repoPolicies + "/\(policy).yaml", "--", "bash", "-c",
                "echo '|/bin/false %p' > \(pattern); echo wrote",
            ])
            XCTAssertEqual(try String(contentsOfFile: pattern, encoding: .utf8), before, "\(policy): core_pattern changed")
            XCTAssertEqual(r.status, 3, "\(policy): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("kernel-run-helpers"), "\(policy): \(r.stderr)")
            XCTAssertFalse(r.stdout.split(separator: "\n").contains("wrote"), "\(policy): the shell went on: \(r.stdout)")
        }
    }
}

extension EscapeTests {
    /// A daemon the agent started before `-p` attached, reparented away from its tree, is found by `--session`.
    func testSessionFindsADaemonStartedBeforeAttach() throws {
        let victim = "/srv/cg-session-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: victim + "/sub", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: victim) }
        let go = dir.appendingPathComponent("go").path
        let started = dir.appendingPathComponent("started").path
        let done = dir.appendingPathComponent("done").path
        // setsid -f: a session of its own (never the test runner's); the agent writes its PID. The daemon's
        // parent subshell exits at once, so the daemon is reparented away from the agent's tree.
        let pidFile = dir.appendingPathComponent("agent.pid").path
        // system(3), not Process: the agent outlives its launcher, and must not hold a descendant's
        // termination-monitor descriptor open the way a Process child would.
        let script =
            "( nohup bash -c 'while [ ! -e \(go) ]; do sleep 0.05; done; X=rm; $X -rf \(victim); : > \(done)' </dev/null >/dev/null 2>&1 & ); echo $$ > \(pidFile); : > \(started); exec sleep 30"
        let scriptFile = dir.appendingPathComponent("agent.sh").path
        try script.write(toFile: scriptFile, atomically: true, encoding: .utf8)
        XCTAssertEqual(system("/usr/bin/setsid -f bash \(scriptFile) </dev/null >/dev/null 2>&1"), 0)
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: started) && Date() < deadline { usleep(10_000) }
        let agentPid = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertNotEqual(getsid(agentPid), getsid(0), "the agent must not share the test runner's session")
        addTeardownBlock { kill(agentPid, SIGKILL) }
        let bg = try Guard.Background(["-p", String(agentPid), "--session", "--duration", "5"])
        try bg.waitReady()
        FileManager.default.createFile(atPath: go, contents: nil)
        // Until the daemon (the one process whose argv holds `go`) is killed, or has run its rm and written `done`.
        XCTAssertTrue(
            Guard.waitUntil { FileManager.default.fileExists(atPath: done) || Guard.processes(containing: go).isEmpty })
        kill(agentPid, SIGKILL)
        bg.stop()
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim + "/sub"), "the daemon's rm -rf ran: \(bg.stdout)")
        XCTAssertTrue(bg.stdout.contains("KILLED"), bg.stdout)
    }
}

extension EscapeTests {
    /// A hold is invisible to the tree (issue 12, class 8): `script` stops itself when its child is held, and
    /// is continued; `timeout --foreground` runs through held children.
    func testHoldsDoNotHangScriptOrTimeout() throws {
        for argv in [
            ["script", "-qc", "ls / >/dev/null; id >/dev/null; echo done-\(getpid())", "/dev/null"],
            ["timeout", "--foreground", "20", "bash", "-c", "ls / >/dev/null; id >/dev/null; echo done-\(getpid())"],
        ] {
            let started = Date()
            let r = try Guard.run(["run", "-q", "--"] + argv, timeout: 15)
            XCTAssertEqual(r.status, 0, "\(argv[0]): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("done-\(getpid())"), "\(argv[0]): \(r.stdout)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(argv[0]) hung on a hold")
        }
    }
}
