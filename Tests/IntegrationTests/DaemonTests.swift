import Foundation
import XCTest

/// `claude-guard daemon` on the real kernel (issue 18): it guards a matching program started after it, ignores
/// the same command run by a process that does not match, keeps enforcing the old policy when a reload brings a
/// broken one, refuses a reload that changes the file rules (frozen in the kernel), applies a changed policy to a
/// tree it guards already, and applies the policy's file rules to its trees only. It runs as the systemd unit would:
/// under the unit's capability bounding set and no_new_privs (setpriv), with $NOTIFY_SOCKET and
/// $JOURNAL_STREAM set.
final class DaemonTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = try Guard.tempDir()
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    static var unitFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd/claude-guard.service").path
    }

    /// The unit's CapabilityBoundingSet, as setpriv's --bounding-set (`-all,+bpf,+perfmon,...`).
    static func unitBoundingSet() throws -> String {
        let unit = try String(contentsOfFile: unitFile, encoding: .utf8)
        let line = try XCTUnwrap(unit.split(separator: "\n").first { $0.hasPrefix("CapabilityBoundingSet=") })
        let caps = line.dropFirst("CapabilityBoundingSet=".count).split(separator: " ")
        return "-all," + caps.map { "+" + $0.dropFirst(4).lowercased() }.joined(separator: ",")
    }

    /// A policy killing `rm` with -r (v1), or any `rm` (v2), and denying changes below `files` (any program);
    /// `more`: also denying reads there (other file rules). A ptrace out of the tree kills (settings.ptrace).
    static func policy(_ name: String, flags: Bool, files: String, more: Bool = false) -> String {
        """
        version: 1
        name: \(name)
        settings: { ptrace: kill }
        rules:
          - id: \(name)-rm
            match: { command: rm\(flags ? ", flags: [r|R|recursive]" : "") }
            action: kill
            severity: high
        files:
          - id: daemon-victims
            paths: { under: ['\(files)'] }
            access: [write, create, truncate, delete, rename\(more ? ", read" : "")]
            action: deny
        """
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func waitFor(_ what: String, timeout: TimeInterval = 20, _ done: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !done() && Date() < deadline { usleep(10_000) }
        XCTAssertTrue(done(), "waited \(timeout)s for \(what)")
    }

    /// A directory with a file in it, outside the temporary places the guarded scripts write to.
    func victim(_ tag: String) throws -> String {
        let v = "/srv/cg-daemon-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: v, withIntermediateDirectories: true)
        try "precious".write(toFile: v + "/file", atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: v) }
        return v
    }

    func testDaemonGuardsMatchingProgramsAndReloads() throws {
        // The agent: a copy of bash under a name nothing else on the machine has.
        let agentName = "cgd" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let agent = path(agentName)
        try FileManager.default.copyItem(atPath: "/bin/bash", toPath: agent)
        // An agent of another kind, audited by a guard with the same policy.
        let audited = agent + "a"
        try FileManager.default.copyItem(atPath: "/bin/bash", toPath: audited)
        let marker = "guarded-session-" + agentName
        let policyPath = path("policy.yaml")
        // The file rules' victims: a tree that exists when the daemon starts (the kernel knows a tree by its root).
        let files = try victim("files")
        for f in ["a", "b", "c", "u", "w"] {
            try "precious \(f)".write(toFile: files + "/" + f, atomically: false, encoding: .utf8)
        }
        try Self.policy("daemon-v1", flags: true, files: files).write(
            toFile: policyPath, atomically: true, encoding: .utf8)
        let config = path("daemon.yaml")
        try """
        version: 1
        guards:
          - name: test-agent
            match: { comm: \(agentName), argv: '\(marker)' }
            policy: policy.yaml
            mode: enforce
          - name: audit-agent
            match: { comm: \(agentName)a }
            policy: policy.yaml
            mode: audit
        """.write(toFile: config, atomically: true, encoding: .utf8)

        // Where the daemon tells systemd how it is doing.
        let notifyPath = path("notify.sock")
        let notify = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(notify, 0)
        defer { close(notify) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in for (i, b) in notifyPath.utf8.enumerated() { p[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(notify, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        XCTAssertEqual(bound, 0, "bind \(notifyPath)")

        // An agent already running when the daemon starts (found in /proc), waiting on a gate.
        let early = try Guard.Gate(in: dir, name: "early")
        let v0 = try victim("v0")
        let earlyPid = path("early.pid"), earlyDone = path("early.done")
        try
            "echo $$ > \(earlyPid).tmp; mv \(earlyPid).tmp \(earlyPid)\n\(early.wait)\nrm -rf \(v0)\necho done > \(earlyDone)\n"
            .write(toFile: path("early.sh"), atomically: true, encoding: .utf8)
        XCTAssertEqual(system("setsid -f \(agent) \(path("early.sh")) \(marker) </dev/null >/dev/null 2>&1"), 0)
        waitFor("the early agent") { FileManager.default.fileExists(atPath: earlyPid) }
        let earlyAgent = try XCTUnwrap(
            Int32(try String(contentsOfFile: earlyPid, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        addTeardownBlock { kill(earlyAgent, SIGKILL) }

        let out = path("out.jsonl"), err = path("err.log")
        FileManager.default.createFile(atPath: err, contents: nil)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        daemon.arguments = [
            "--bounding-set", try Self.unitBoundingSet(), "--no-new-privs", Guard.binary, "daemon", "--config", config,
            "-o", out,
        ]
        daemon.environment = ProcessInfo.processInfo.environment.merging([
            "NOTIFY_SOCKET": notifyPath, "JOURNAL_STREAM": "8:12345",
        ]) { $1 }
        daemon.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardInput = FileHandle.nullDevice
        try daemon.run()
        defer {
            if daemon.isRunning {
                kill(daemon.processIdentifier, SIGKILL)
                daemon.waitUntilExit()
            }
        }
        func log() -> String { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
        waitFor("the daemon to be ready") { log().contains("ready:") || !daemon.isRunning }
        XCTAssertTrue(log().contains("<6>claude-guard: ready:"), "journal priority prefix: \(log())")

        // 0. The agent that ran before the daemon is guarded too: its rm -rf is killed.
        XCTAssertTrue(log().contains("guarding pid \(earlyAgent) "), log())
        XCTAssertTrue(early.open(), "the early agent died: \(log())")
        waitFor("the early agent to go on") { FileManager.default.fileExists(atPath: earlyDone) }
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: v0 + "/file"), "the running agent was not adopted: \(log())")

        // 1. A matching agent started after the daemon: its rm -rf is killed, the victim survives.
        let v1 = try victim("v1")
        let script = path("agent.sh")
        try "rm -rf \(v1)\necho after > \(path("ran1"))\n".write(toFile: script, atomically: true, encoding: .utf8)
        let guarded = try Guard.exec(agent, [script, marker])
        XCTAssertEqual(guarded.status, 0, guarded.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: v1 + "/file"), "the guarded agent's rm -rf ran: \(log())")

        // 2. The same command, by the same program without the marker (a candidate the argv pattern drops) and by
        // a bash that matches nothing: both delete their throwaway file.
        let throw1 = try victim("throw1"), throw2 = try victim("throw2")
        try "rm -rf \(throw1)\n".write(toFile: path("other.sh"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try Guard.exec(agent, [path("other.sh"), "not-the-marker"]).status, 0)
        XCTAssertEqual(try Guard.exec("/bin/bash", ["-c", "rm -rf \(throw2)"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: throw1), "a non-matching candidate was guarded")
        XCTAssertFalse(FileManager.default.fileExists(atPath: throw2), "a non-matching process was guarded")

        // 3. A long-lived guarded tree, started before the reloads, waiting on a gate.
        let gate = try Guard.Gate(in: dir)
        let v2 = try victim("v2")
        let pidFile = path("long.pid"), done = path("long.done")
        try """
        echo $$ > \(pidFile).tmp; mv \(pidFile).tmp \(pidFile)
        \(gate.wait)
        rm \(v2)/file
        echo done > \(done)
        """.write(toFile: path("long.sh"), atomically: true, encoding: .utf8)
        XCTAssertEqual(system("setsid -f \(agent) \(path("long.sh")) \(marker) </dev/null >/dev/null 2>&1"), 0)
        waitFor("the long-lived agent") { FileManager.default.fileExists(atPath: pidFile) }
        let longPid = try XCTUnwrap(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        addTeardownBlock { kill(longPid, SIGKILL) }
        waitFor("the daemon to guard pid \(longPid)") { log().contains("guarding pid \(longPid) ") }

        // 4. A broken policy on SIGHUP: the error with file:line:column, the old policy keeps enforcing.
        try "version: 1\nrules:\n  - id: x\n    match: { command: [rm\n".write(
            toFile: policyPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        waitFor("the failed reload") { log().contains("reload failed") }
        XCTAssertTrue(log().contains("<3>claude-guard: error: reload failed"), log())
        XCTAssertTrue(log().contains("\(config):5:13: bad value for 'policy'"), log())
        XCTAssertNotNil(log().range(of: #"policy\.yaml:\d+:\d+: "#, options: .regularExpression), log())
        let v3 = try victim("v3")
        try "rm -rf \(v3)\n".write(toFile: script, atomically: true, encoding: .utf8)
        _ = try Guard.exec(agent, [script, marker])
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: v3 + "/file"), "the old policy stopped enforcing: \(log())")

        // 4b. A valid policy whose file rules differ: refused whole (the kernel's file rules are frozen).
        try Self.policy("daemon-v1", flags: true, files: files, more: true).write(
            toFile: policyPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        waitFor("the refused reload") { log().contains("a restart of the daemon is needed") }
        XCTAssertFalse(log().contains("reloaded: "), log())

        // 5. A changed valid policy (any rm is killed, -r or not): the tree guarded since before takes it.
        try Self.policy("daemon-v2", flags: false, files: files).write(
            toFile: policyPath, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        waitFor("the reload") { log().contains("reloaded: guard test-agent: policy daemon-v2") }
        XCTAssertTrue(gate.open(), "the long-lived agent died: \(log())")
        waitFor("the long-lived agent to go on") { FileManager.default.fileExists(atPath: done) }
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: v2 + "/file"), "the new policy missed the old tree: \(log())")

        // 5b. File rules, whatever program acts: python in a guarded tree opening `a` for writing dies at the open
        // (not a byte written), unlinking `b` then `c` dies after its first call (no Landlock for a tree the
        // daemon did not launch: `b` is lost, `c` survives); the same unlink by a process no guard matches works.
        try """
        \(Guard.python) -c 'import sys; open(sys.argv[1], "a").write("overwritten")' \(files)/a; echo "write rc=$?"
        \(Guard.python) -c 'import os, sys; [os.unlink(p) for p in sys.argv[1:]]' \(files)/b \(files)/c; echo "unlink rc=$?"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let pyAgent = try Guard.exec(agent, [script, marker])
        XCTAssertEqual(pyAgent.stdout, "write rc=137\nunlink rc=137\n", pyAgent.stderr + log())
        XCTAssertEqual(try String(contentsOfFile: files + "/a", encoding: .utf8), "precious a", "a was written")
        XCTAssertTrue(FileManager.default.fileExists(atPath: files + "/c"), "the unlink loop went on: \(log())")
        let untracked = try Guard.exec(
            Guard.python, ["-c", "import os, sys; os.unlink(sys.argv[1])", files + "/u"])
        XCTAssertEqual(untracked.status, 0, untracked.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: files + "/u"), "a process no guard matches was judged")

        // 5b'. The same write in an audited tree: done, reported as what would have been done.
        try """
        \(Guard.python) -c 'import sys; open(sys.argv[1], "a").write(" audited")' \(files)/w; echo "write rc=$?"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let auditedRun = try Guard.exec(audited, [script])
        XCTAssertEqual(auditedRun.stdout, "write rc=0\n", auditedRun.stderr + log())
        XCTAssertEqual(try String(contentsOfFile: files + "/w", encoding: .utf8), "precious w audited")

        // 5c. settings.ptrace: a guarded python attaching to a process outside the tree is killed (held by the
        // kernel, killed by its tree's policy); the outsider lives on, not left stopped by the attach.
        let outsider = Process()
        outsider.executableURL = URL(fileURLWithPath: "/bin/sleep")
        outsider.arguments = ["60"]
        try outsider.run()
        defer { outsider.terminate() }
        try """
        \(Guard.python) -c 'import ctypes, sys; libc = ctypes.CDLL(None); print("attach", libc.ptrace(16, int(sys.argv[1]), 0, 0), flush=True)' \(outsider.processIdentifier); echo "ptrace rc=$?"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let tracer = try Guard.exec(agent, [script, marker])
        XCTAssertEqual(tracer.stdout, "ptrace rc=137\n", tracer.stderr + log())
        usleep(300_000)  // continueAfterAttach's own wait, so the state below is the settled one
        let outsiderState = (try? String(contentsOfFile: "/proc/\(outsider.processIdentifier)/stat", encoding: .utf8))?
            .split(separator: ")").last?.split(separator: " ").first
        XCTAssertTrue(outsider.isRunning, "the outsider died")
        XCTAssertEqual(outsiderState, "S", "the outsider was left stopped")

        // 6. SIGTERM: a clean exit, STOPPING=1, nothing left stopped.
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        XCTAssertEqual(daemon.terminationStatus, 0, log())
        XCTAssertTrue(Guard.waitGone(longPid), "the long-lived agent was left stopped")

        var messages: [String] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(notify, &buf, buf.count, Int32(MSG_DONTWAIT))
            if n <= 0 { break }
            messages.append(String(decoding: buf[0..<n], as: UTF8.self))
        }
        let states = messages.map { $0.split(separator: "\n").first.map(String.init) ?? "" }
        XCTAssertEqual(
            states,
            ["READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
            "\(messages)")

        let events = Guard.jsonLines(try String(contentsOfFile: out, encoding: .utf8))
        let kills = events.filter { ($0["enforced"] as? String) == "killed" }
        func killed(_ target: String, policy: String) -> Bool {
            kills.contains {
                ($0["argv"] as? [String] ?? []).contains { $0.hasPrefix(target) }
                    && ($0["guard"] as? String) == "test-agent"
                    && ($0["policy"] as? String) == policy && ($0["rule"] as? String) == policy + "-rm"
            }
        }
        XCTAssertTrue(killed(v1, policy: "daemon-v1"), "violation with guard and policy: \(kills)")
        XCTAssertTrue(killed(v0, policy: "daemon-v1"), "\(kills)")
        XCTAssertTrue(killed(v3, policy: "daemon-v1"), "\(kills)")
        XCTAssertTrue(killed(v2 + "/file", policy: "daemon-v2"), "\(kills)")
        XCTAssertFalse(
            events.contains { ($0["argv"] as? [String] ?? []).contains { $0.contains(throw1) || $0.contains(throw2) } },
            "a process that matches no guard was logged")
        let fileViolations = events.filter { ($0["type"] as? String) == "file" && $0["rule"] != nil }
        func fileViolation(_ name: String, _ enforced: String) -> Bool {
            fileViolations.contains {
                ($0["path"] as? String) == files + "/" + name && ($0["enforced"] as? String) == enforced
                    && ($0["rule"] as? String) == "daemon-victims" && ($0["guard"] as? String) == "test-agent"
                    && ($0["policy"] as? String) == "daemon-v2"
            }
        }
        XCTAssertTrue(fileViolation("a", "killed"), "\(fileViolations)")
        XCTAssertTrue(fileViolation("b", "killed-after"), "\(fileViolations)")
        XCTAssertTrue(
            fileViolations.contains {
                ($0["path"] as? String) == files + "/w" && ($0["enforced"] as? String) == "would-deny"
                    && ($0["guard"] as? String) == "audit-agent"
            }, "\(fileViolations)")
        XCTAssertFalse(
            fileViolations.contains { ($0["path"] as? String) == files + "/u" }, "an untracked process was logged")
        XCTAssertTrue(
            events.contains {
                ($0["type"] as? String) == "ptrace" && ($0["rule"] as? String) == "settings.ptrace"
                    && ($0["enforced"] as? String) == "killed" && ($0["guard"] as? String) == "test-agent"
            }, "\(events.filter { ($0["type"] as? String) == "ptrace" })")
    }

    /// The unit as `make install` writes it passes `systemd-analyze verify` with nothing to say.
    func testUnitFileVerifies() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            throw XCTSkip("no systemd-analyze")
        }
        let unit = try String(contentsOfFile: Self.unitFile, encoding: .utf8)
            .replacingOccurrences(of: "@PREFIX@/bin/claude-guard", with: Guard.binary)
            .replacingOccurrences(of: "@SYSCONFDIR@", with: dir.path)
        let installed = path("claude-guard.service")
        try unit.write(toFile: installed, atomically: true, encoding: .utf8)
        let r = try Guard.exec("/usr/bin/systemd-analyze", ["verify", "--man=no", installed])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout + r.stderr, "", "systemd-analyze verify warns")
    }
}
