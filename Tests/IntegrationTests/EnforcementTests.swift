import Foundation
import GuardKernel
#if canImport(FoundationXML)
    import FoundationXML
#endif
import XCTest

/// A denied command never runs — not one instruction — however it is spelled or launched; allowed ones do.
/// Every case has a victim directory that must survive a denied command and be gone after an allowed one.
final class EnforcementTests: XCTestCase {
    static let policy = Guard.testPolicy(
        "enforcement-test",
        rules: Guard.rmRecursiveForce + """

              - id: download-and-run
                match:
                  pipeline:
                    - { command: [curl, wget] }
                    - { command: [sh, bash, dash] }
                action: kill
              - id: git-reset-hard
                match: { command: git, args: [reset], flags: [hard] }
                action: kill
              - id: stop-marked-touch
                match: { command: touch, args: ["*stopme*"] }
                action: stop
              - id: alert-marked-echo
                match: { command: echo, args: ["alertme"] }
                action: alert
            """)

    var dir: URL!
    var policyPath: String!

    override func setUpWithError() throws {
        (dir, policyPath) = try Guard.policyDir(Self.policy)
    }

    override func tearDownWithError() throws {
        // No process of this suite may be left stopped.
        let stopped = Self.stoppedDescendants(of: getpid())
        XCTAssertEqual(stopped, [], "processes left in state T")
        for pid in stopped { kill(pid, SIGKILL) }
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// A fresh victim directory with a file in it.
    func victim(_ name: String = "victim") throws -> String {
        let v = dir.appendingPathComponent(name + "-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: v, withIntermediateDirectories: true)
        try "precious".write(to: v.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        return v.path
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Runs `bash -c script` under the guard with the test policy.
    @discardableResult
    func guarded(
        _ script: String, _ extra: [String] = [], env: [String: String]? = nil, shell: String = "bash"
    ) throws -> Guard.Result {
        try Guard.run(
            ["run", "--policy", policyPath, "--format", "json"] + extra + ["--", shell, "-c", script], env: env)
    }

    func assertDenied(
        _ script: String, _ victim: String, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        Guard.assertKilled(try guarded(script, extra), victim, script, file: file, line: line)
    }

    /// Each script (its victim written V) denied, all in ONE guarded run (one guard start, not one per case): a
    /// loop runs each as its own `bash -c`, with text the loop's own line does not show (read from a file), so
    /// each is judged at that bash's exec as `guarded` would judge it alone. Every victim survives and every case
    /// has its own kill record naming its victim.
    func assertEachDenied(_ scripts: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = dir.appendingPathComponent("cases-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: cases, withIntermediateDirectories: true)
        var victims: [(script: String, victim: String)] = []
        for (k, s) in scripts.enumerated() {
            let v = try victim()
            let text = s.replacingOccurrences(of: "V", with: v)
            try text.write(
                to: cases.appendingPathComponent(String(format: "%03d", k)), atomically: true, encoding: .utf8)
            victims.append((text, v))
        }
        let r = try guarded("for f in \(cases.path)/*; do bash -c \"$(<\"$f\")\"; done; true")
        XCTAssertEqual(r.status, 3, "violation exit code\n\(r.stderr)", file: file, line: line)
        let kills = Guard.jsonLines(r.stdout).filter { $0["rule"] != nil && $0["enforced"] as? String == "killed" }
        func names(_ v: String, _ x: Any) -> Bool {
            if let s = x as? String { return s.contains(v) }
            if let a = x as? [Any] { return a.contains { names(v, $0) } }
            if let d = x as? [String: Any] { return d.values.contains { names(v, $0) } }
            return false
        }
        for (script, v) in victims {
            XCTAssertTrue(
                exists(v + "/file"), "victim deleted by: \(script)\n\(r.stdout)\n\(r.stderr)", file: file, line: line)
            XCTAssertTrue(
                kills.contains { names(v, $0) }, "no kill recorded for \(script): \(r.stdout)", file: file, line: line)
        }
    }

    // MARK: spellings

    func testEverySpellingOfRecursiveForceDeleteIsKilled() throws {
        let spellings = [
            "rm -rf V", "rm -fr V", "rm -Rf V", "rm -fR V", "rm -r -f V", "rm -f -r V", "rm --recursive --force V",
            "rm --force --recursive V", "rm -r --force V", "rm --recursive -f V", "rm -rfv V", "rm -rf -- V",
            "/bin/rm -rf V", "/usr/bin/rm -rf V", "'rm' -rf V", "\\rm -rf V", "r''m -rf V", "\"r\"m -r\"f\" V",
            "cd / && usr/bin/rm -rf V", "command rm -rf V", "RM=1 rm -rf V",
            // getopt_long reads any unambiguous prefix of a long option: rm runs these as --recursive --force.
            "rm --rec --forc V", "rm --r --f V", "rm -r --fo V", "rm --recursive --for V",
        ]
        try assertEachDenied(spellings)
    }

    func testTheRealExecIsKilledWhenTheShellCannotSeeTheCommand() throws {
        // The shell's text names no rm: the guard lets bash run, and kills rm at its own exec.
        try assertEachDenied([
            "X=rm; $X -rf V", "X=-rf; rm $X V", "$(echo rm) -rf V", "eval \"$(printf 'r%s -rf V' m)\"",
        ])
    }

    // MARK: wrappers and nesting

    func testNestedShellsAndEval() throws {
        try assertEachDenied([
            "bash -c \"sh -c 'rm -rf V'\"", "sh -c \"bash -lc 'dash -c \\\"rm -rf V\\\"'\"", "eval 'rm -rf V'",
            "cd /tmp; (cd / && { rm -rf V; })", "echo start; if true; then rm -rf V; fi", "bash <<< 'rm -rf V'",
            "sh <<'EOF'\necho start\nrm -rf V\nEOF",
        ])
    }

    func testWrappers() throws {
        var wrappers = [
            "env rm -rf V", "env -i PATH=/usr/bin rm -rf V", "timeout 5 rm -rf V", "timeout -s KILL 5 env rm -rf V",
            "nice -n 5 rm -rf V", "nohup rm -rf V", "setsid rm -rf V", "stdbuf -o0 rm -rf V", "ionice -c3 rm -rf V",
            "echo V | xargs rm -rf", "echo V | xargs -n1 rm -rf", "find V -maxdepth 0 -exec rm -rf {} \\;",
            "exec rm -rf V", "time rm -rf V",
            // Long options as the wrappers read them: abbreviated, or taking no separate value.
            "timeout --sig KILL 5 rm -rf V", "nice --adj 5 rm -rf V", "env --ch=/ rm -rf V",
            "echo V | xargs --max-lines rm -rf", "echo V | xargs --max-a 1 rm -rf", "stdbuf --out L rm -rf V",
        ]
        if exists("/usr/bin/sudo") {
            wrappers += ["sudo rm -rf V", "sudo -u root -- rm -rf V", "sudo --us root rm -rf V"]
        }
        if exists("/bin/busybox") || exists("/usr/bin/busybox") { wrappers += ["busybox rm -rf V"] }
        try assertEachDenied(wrappers)
    }

    /// util-linux's command runners and an alias defined on an earlier line: each is judged by the command it
    /// runs (issue 14 point 7), and the victim survives.
    func testUtilLinuxRunnersAndAliases() throws {
        let lines = [
            "setpriv --reuid=0 rm -rf V", "setpriv --nnp -- rm -rf V", "prlimit --nofile=1024 rm -rf V",
            "setarch x86_64 -R rm -rf V", "taskset -c 0 rm -rf V", "chrt -o 0 rm -rf V", "flock V.lock rm -rf V",
            "flock V.lock -c 'rm -rf V'", "script -qc 'rm -rf V' /dev/null", "runuser -u root -- rm -rf V",
            "shopt -s expand_aliases\nalias r='rm -rf'\nr V",
        ]
        try assertEachDenied(lines)
    }

    /// GNU parallel runs its command once per argument (through a shell): judged as that command.
    func testGNUParallelIsJudgedByTheCommandItRuns() throws {
        guard let parallel = ["/usr/bin/parallel", "/usr/local/bin/parallel"].first(where: exists) else {
            throw XCTSkip("GNU parallel is not installed (apt-get install parallel)")
        }
        for s in ["\(parallel) rm -rf ::: V", "\(parallel) -j1 'rm -rf {}' ::: V", "echo V | \(parallel) rm -rf"] {
            let v = try victim()
            try assertDenied(s.replacingOccurrences(of: "V", with: v), v)
        }
    }

    /// `git -c alias.NAME=VALUE NAME` runs VALUE: judged as the command it stands for before git starts (and
    /// again when git re-executes itself with the expansion). git also reads `--har` as `--hard`.
    func testGitAliasesAndAbbreviationsAreJudgedAsGitRunsThem() throws {
        guard exists("/usr/bin/git") else { throw XCTSkip("git is not installed") }
        for s in [
            "git -c alias.yolo='reset --hard' yolo", "git -c alias.YoLo='reset --hard' -c color.ui=never yolo",
            "git reset --har",
        ] {
            // A repository with an uncommitted file: `reset --hard` would discard it.
            let repo = try victim("repo")
            let setup = try Guard.exec(
                "/bin/sh",
                [
                    "-c",
                    "cd '\(repo)' && git init -q && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m i "
                        + "&& git add file",
                ])
            XCTAssertEqual(setup.status, 0, setup.stderr)
            let r = try guarded("cd '\(repo)' && \(s)")
            XCTAssertTrue(exists(repo + "/file"), "uncommitted work discarded by: \(s)\n\(r.stdout)\n\(r.stderr)")
            XCTAssertEqual(r.status, 3, "violation exit code for: \(s)\n\(r.stderr)")
            XCTAssertTrue(
                Guard.jsonLines(r.stdout).contains { $0["rule"] as? String == "git-reset-hard" },
                "no git-reset-hard violation for \(s): \(r.stdout)")
        }
    }

    /// An argument that names a path is also judged as the absolute normal path (`of=//x`, `of=x` run in the
    /// directory): dd would zero the file, which keeps its text.
    func testArgumentPathsAreJudgedResolved() throws {
        let v = try victim()
        let policy = dir.appendingPathComponent("dd.yaml").path
        try
            "version: 1\nrules:\n  - id: dd-into-victim\n    match: { command: dd, args: ['of=\(v)/*'] }\n    action: kill\n"
            .write(toFile: policy, atomically: true, encoding: .utf8)
        for s in [
            "dd if=/dev/zero of=/\(v)//file count=1", "cd '\(v)' && dd if=/dev/zero of=file count=1",
            "dd if=/dev/zero of=\(v)/./file count=1",
        ] {
            let r = try Guard.run(["run", "--policy", policy, "--format", "json", "--", "bash", "-c", s])
            XCTAssertEqual(try String(contentsOfFile: v + "/file", encoding: .utf8), "precious", "overwritten by: \(s)")
            XCTAssertEqual(r.status, 3, "violation exit code for: \(s)\n\(r.stderr)")
        }
    }

    /// A secret read through an input redirection (`cat < SECRET > OUT`): the shell that would open it is killed
    /// before it runs, so nothing of the secret reaches OUT.
    func testInputRedirectionReadsAreJudgedAsPaths() throws {
        let v = try victim()
        let policy = dir.appendingPathComponent("secret.yaml").path
        try
            "version: 1\nrules:\n  - id: read-victim\n    match: { command: [cat, base64, head], paths: { under: ['\(v)'] } }\n    action: kill\n"
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("leaked").path
        for s in [
            "cat < '\(v)/file' > '\(out)'", "timeout 5 base64 < \(v)/file > \(out)",
            "cd \(v) && head -c 100 <file >\(out)",
        ] {
            try? FileManager.default.removeItem(atPath: out)
            let r = try Guard.run(["run", "--policy", policy, "--", "bash", "-c", s])
            XCTAssertFalse(exists(out), "the shell ran and read the file: \(s)")
            XCTAssertEqual(r.status, 3, "violation exit code for: \(s)\n\(r.stderr)")
        }
    }

    // MARK: the binary's identity, not its name

    func testSymlinkedHardLinkedCopiedAndRenamedBinaries() throws {
        let rm = URL(fileURLWithPath: "/bin/rm").resolvingSymlinksInPath().path
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: bin.appendingPathComponent("symlinked").path, withDestinationPath: rm)
        try FileManager.default.copyItem(atPath: rm, toPath: bin.appendingPathComponent("copied").path)
        try FileManager.default.copyItem(atPath: rm, toPath: bin.appendingPathComponent("ls").path)  // renamed as a harmless name
        var names = ["symlinked", "copied", "ls"]
        if link(rm, bin.appendingPathComponent("hardlinked").path) == 0 { names.append("hardlinked") }
        for name in names {
            let v = try victim()
            // Hide the name from the shell parser so only the exec's identity can tell.
            try assertDenied("P=\(bin.path); \"$P/\(name)\" -rf \(v)", v)
        }
        // A copy that is executed through a memfd (fileless) is still rm by content.
        let v = try victim()
        let py =
            "import os; fd=os.memfd_create('x'); os.write(fd, open('\(rm)','rb').read()); os.execve(fd, ['x','-rf','\(v)'], {})"
        let r = try Guard.run(["run", "--policy", policyPath, "--", Guard.python, "-c", py])
        XCTAssertTrue(exists(v + "/file"), "fileless rm ran: \(r.stderr)")
        XCTAssertEqual(r.status, 3)
    }

    func testArgv0SpoofingWithExecA() throws {
        let v = try victim()
        try assertDenied("exec -a ls rm -rf \(v)", v)
        let w = try victim()
        try assertDenied("X=rm; exec -a ls $X -rf \(w)", w)
    }

    func testShebangScriptThatRunsTheDeniedCommand() throws {
        let v = try victim()
        let script = dir.appendingPathComponent("cleanup.sh").path
        try "#!/bin/sh\nrm -rf \(v)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        try assertDenied(script, v)
    }

    // MARK: launchers as agents use them

    func testNodeAndPythonLaunchers() throws {
        let v = try victim()
        let py = "import subprocess; subprocess.run(['rm', '-rf', '\(v)'])"
        let r = try Guard.run(["run", "--policy", policyPath, "--", Guard.python, "-c", py])
        XCTAssertTrue(exists(v + "/file"), r.stderr)
        XCTAssertEqual(r.status, 3)
        guard let node = ProcFSLite.which("node") else { throw XCTSkip("node is not installed") }
        let w = try victim()
        let js = "try { require('child_process').execSync('rm -rf \(w)') } catch (e) {}"
        let n = try Guard.run(["run", "--policy", policyPath, "--", node, "-e", js])
        XCTAssertTrue(exists(w + "/file"), n.stderr)
        XCTAssertEqual(n.status, 3)
    }

    func testDaemonizedDescendantIsKilledLater() throws {
        let v = try victim()
        let r = try guarded("X=rm; " + Guard.orphaned("$X -rf \(v)"), ["--keep-descendants"])
        XCTAssertTrue(exists(v + "/file"), r.stdout)
        XCTAssertEqual(r.status, 3)
    }

    func testDownloadAndRunFromALocalServer() throws {
        guard ProcFSLite.which("curl") != nil else { throw XCTSkip("curl is not installed") }
        let v = try victim()
        let www = dir.appendingPathComponent("www")
        try FileManager.default.createDirectory(at: www, withIntermediateDirectories: true)
        try "rm -rf \(v)\n".write(to: www.appendingPathComponent("install.sh"), atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Guard.python)
        // Port 0: the kernel picks a free one, and the server's ready line says which.
        server.arguments = ["-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", www.path, "0"]
        let ready = Pipe()
        server.standardOutput = ready
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var said = ""
        while !said.contains(") ...") {
            let chunk = ready.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // the server is gone
            said += String(decoding: chunk, as: UTF8.self)
        }
        // "Serving HTTP on 127.0.0.1 port 43117 (http://127.0.0.1:43117/) ..."
        let port = try XCTUnwrap(
            said.split(separator: " ").firstIndex(of: "port").flatMap { i in Int(said.split(separator: " ")[i + 1]) },
            "no ready line from the server: \(said)")
        try assertDenied("curl -fsS http://127.0.0.1:\(port)/install.sh | sh", v)
        // Hidden from the parser: the pipeline's sh still runs what curl fetched, and rm dies at its exec.
        let w = try victim()
        try "rm -rf \(w)\n".write(to: www.appendingPathComponent("install.sh"), atomically: true, encoding: .utf8)
        try assertDenied("C=curl; $C -fsS http://127.0.0.1:\(port)/install.sh | sh", w)
        // Downloaded to a file, then run from it: judged as `curl | sh`. The script only writes with a shell
        // builtin (no exec to judge), so only the text of the command line can stop it.
        // Also through a wrapper (`timeout 5 sh F`, `env sh F`).
        for run in ["sh F", "chmod +x F && F", ". F", "timeout 5 sh F", "env sh F"] {
            let x = try victim()
            try "echo pwned > \(x)/file\n".write(
                to: www.appendingPathComponent("setup.sh"), atomically: true, encoding: .utf8)
            let file = dir.appendingPathComponent("setup-\(UUID().uuidString.prefix(8)).sh").path
            let s =
                "curl -fsS -o \(file) http://127.0.0.1:\(port)/setup.sh && "
                + run.replacingOccurrences(of: "F", with: file)
            let r = try guarded(s)
            XCTAssertEqual(try String(contentsOfFile: x + "/file", encoding: .utf8), "precious", "ran: \(s)")
            XCTAssertEqual(r.status, 3, "violation exit code for: \(s)\n\(r.stderr)")
        }
        // Piped into a shell that text run by `eval` starts: the same builtin-only script, stopped by the text.
        let y = try victim()
        try "echo pwned > \(y)/file\n".write(
            to: www.appendingPathComponent("setup.sh"), atomically: true, encoding: .utf8)
        let e = "curl -fsS http://127.0.0.1:\(port)/setup.sh | eval sh"
        let r = try guarded(e)
        XCTAssertEqual(try String(contentsOfFile: y + "/file", encoding: .utf8), "precious", "ran: \(e)")
        XCTAssertEqual(r.status, 3, "violation exit code for: \(e)\n\(r.stderr)")
    }

    // MARK: what is allowed runs

    func testAllowedCommandsTakeEffect() throws {
        let v = try victim()
        let made = dir.appendingPathComponent("made").path
        let r = try guarded("rm -r \(v) && mkdir \(made) && ls \(made) >/dev/null && echo done >/dev/null")
        XCTAssertEqual(r.status, 0, r.stderr + r.stdout)
        XCTAssertFalse(exists(v), "rm -r (not forced) is allowed and took effect")
        XCTAssertTrue(exists(made))
        let alert = try guarded("echo alertme >/dev/null; true")
        XCTAssertEqual(alert.status, 3, "an alert is a violation")
        XCTAssertTrue(Guard.jsonLines(alert.stdout).contains { $0["enforced"] as? String == "alerted" })
    }

    // MARK: modes and actions

    func testAuditModeKillsNothingAndLogsTheViolation() throws {
        let v = try victim()
        let log = dir.appendingPathComponent("violations.jsonl").path
        let r = try guarded("rm -rf \(v)", ["--audit", "--violations", log])
        XCTAssertEqual(r.status, 3)
        XCTAssertFalse(exists(v), "audit mode signals nothing: the command ran")
        let lines = Guard.jsonLines(try String(contentsOfFile: log, encoding: .utf8))
        let e = try XCTUnwrap(lines.first { ($0["argv"] as? [String])?.first == "rm" }, "\(lines)")
        XCTAssertEqual(e["enforced"] as? String, "would-kill")
        XCTAssertEqual(e["rule"] as? String, "rm-recursive-force")
        XCTAssertEqual(e["action"] as? String, "kill")
        XCTAssertEqual(e["severity"] as? String, "critical")
        XCTAssertEqual(e["policy"] as? String, "enforcement-test")
        XCTAssertEqual(e["matched"] as? String, "rm -rf \(v)")
    }

    func testStopHoldsUntilTheGuardIsToldToResume() throws {
        let (bg, pid, target) = try guardWithStoppedTouch("stopme")
        // The kernel sent SIGSTOP before the record: the process is stopped once it takes the signal.
        XCTAssertTrue(Guard.waitUntil(timeout: 20) { ProcFS.state(of: pid) == "T" }, "held")
        XCTAssertFalse(exists(target))
        let r = try Guard.run(["resume", String(pid)])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(bg.wait(), 3)
        XCTAssertTrue(exists(target), "resumed by the guard's decision, it ran")
    }

    func testAgentSendingSIGCONTToItsHeldChildGetsNothingDone() throws {
        let target = dir.appendingPathComponent("stopme-cont").path
        let script =
            "T=touch; $T \(target) & P=$!; for i in $(seq 100); do kill -CONT $P 2>/dev/null; sleep 0.01; done; wait $P; echo status=$?"
        let r = try guarded(script)
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertFalse(exists(target), "a held process resumed by someone else must not get to do anything")
    }

    func testHoldTimeoutFailsClosed() throws {
        let v = dir.appendingPathComponent("made-closed").path
        let r = try Guard.run(
            ["run", "--policy", policyPath, "--", "mkdir", v], env: ["CLAUDE_GUARD_FAULT": "no-verdict"])
        XCTAssertFalse(exists(v), "on_timeout: kill")
        XCTAssertEqual(r.status, 137, r.stderr)
        XCTAssertTrue(r.stderr.contains("held with no verdict"), r.stderr)
    }

    func testHoldTimeoutFailsOpen() throws {
        let open = Self.policy.replacingOccurrences(of: "on_timeout: kill", with: "on_timeout: allow")
        let path = dir.appendingPathComponent("open.yaml").path
        try open.write(toFile: path, atomically: true, encoding: .utf8)
        let v = dir.appendingPathComponent("made-open").path
        let r = try Guard.run(["run", "--policy", path, "--", "mkdir", v], env: ["CLAUDE_GUARD_FAULT": "no-verdict"])
        XCTAssertTrue(exists(v), "on_timeout: allow")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testWatchdogReleasesHeldProcessesWhenTheGuardIsKilled() throws {
        let (bg, pid, target) = try guardWithStoppedTouch("stopme-watchdog")
        kill(bg.process.processIdentifier, SIGKILL)
        bg.process.waitUntilExit()
        XCTAssertTrue(Guard.waitGone(pid), "the held process was resolved without its guard")
        XCTAssertFalse(exists(target), "on_timeout kill: it never ran")
        // Reap the orphan if it was ours (it was reparented to the guard's parent: this test process? no: init).
    }

    func testSigtermReleasesHeldProcesses() throws {
        let (bg, pid, target) = try guardWithStoppedTouch("stopme-term")
        kill(bg.process.processIdentifier, SIGTERM)
        bg.process.waitUntilExit()
        XCTAssertNotEqual(bg.process.terminationStatus, 0)
        XCTAssertNotEqual(ProcFS.state(of: pid), "T")
        XCTAssertFalse(exists(target))
    }

    func testPidModeEnforcesOnARunningAgent() throws {
        let v = try victim()
        let gate = try Guard.Gate(in: dir)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/bin/bash")
        agent.arguments = ["-c", "\(gate.wait); X=rm; $X -rf \(v); exit 0"]
        try agent.run()
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) }; agent.waitUntilExit() }
        let bg = try Guard.Background([
            "-p", String(agent.processIdentifier), "--policy", policyPath, "--format", "json",
        ])
        try bg.waitReady()
        XCTAssertTrue(gate.open(), bg.stderr)
        XCTAssertEqual(bg.wait(), 3, bg.stderr)
        XCTAssertTrue(exists(v + "/file"))
    }

    func testReportAndJUnit() throws {
        let v = try victim()
        let report = dir.appendingPathComponent("report.json").path
        let junit = dir.appendingPathComponent("junit.xml").path
        let r = try guarded("X=rm; $X -rf \(v); echo alertme", ["--report", report, "--junit", junit])
        XCTAssertEqual(r.status, 3)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual((summary["rules"] as? [String: Int])?["rm-recursive-force"], 1)
        XCTAssertEqual((summary["rules"] as? [String: Int])?["alert-marked-echo"], 1)
        XCTAssertEqual((json["violations"] as? [Any])?.count, 2)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertNoThrow(try XMLDocument(xmlString: xml))
        XCTAssertTrue(
            xml.contains("<testcase classname=\"claude-guard.enforcement-test\" name=\"rm-recursive-force\">"), xml)
        XCTAssertTrue(
            xml.contains("<testcase classname=\"claude-guard.enforcement-test\" name=\"stop-marked-touch\"/>"), xml)
    }

    func testStopAsksOnTheTerminalInPidMode() throws {
        // The guard runs on a pseudo-terminal (as in a second terminal beside the agent) and is answered y.
        let target = dir.appendingPathComponent("stopme-tty").path
        let driver = """
            import os, pty, subprocess, sys, time
            gate = sys.argv[3]
            agent = subprocess.Popen(["bash", "-c", "read -r _ < " + gate + "; T=touch; $T \(target)"])
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], [sys.argv[1], "-p", str(agent.pid), "--policy", sys.argv[2]])
            out, deadline, answered, released = b"", time.time() + 20, False, False
            while time.time() < deadline:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                out += chunk
                if not released and b"guarding PID" in out:
                    # Attached: let the agent go on (it waits in `read` on the FIFO).
                    with open(gate, "w") as g:
                        g.write("\\n")
                    released = True
                if not answered and b"[y/N]" in out:
                    os.write(fd, b"y\\n")
                    answered = True
            _, status = os.waitpid(pid, 0)
            agent.wait()
            print(out.decode(errors="replace"))
            print("answered" if answered else "never asked", os.waitstatus_to_exitcode(status))
            """
        let gate = try Guard.Gate(in: dir)
        let r = try Guard.exec(Guard.python, ["-c", driver, Guard.binary, policyPath, gate.path], timeout: 40)
        XCTAssertTrue(r.stdout.contains("answered 3"), r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("resumed by the operator"), r.stdout)
        XCTAssertTrue(exists(target), "answered y: it ran")
    }

    // MARK: helpers

    /// A guard in the background whose tree ran `touch NAME` and got the `stop` verdict: (guard, touch pid, path).
    func guardWithStoppedTouch(_ name: String) throws -> (Guard.Background, Int32, String) {
        let target = dir.appendingPathComponent(name).path
        let log = dir.appendingPathComponent(name + ".jsonl").path
        let bg = try Guard.Background([
            "run", "--policy", policyPath, "--violations", log, "--", "bash", "-c", "T=touch; $T \(target)",
        ])
        try bg.waitReady()
        return (bg, try waitForViolation(log, enforced: "stopped"), target)
    }

    func waitForViolation(_ log: String, enforced: String, timeout: TimeInterval = 10) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: log, encoding: .utf8) {
                for l in text.split(separator: "\n") {
                    if let o = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any],
                        o["enforced"] as? String == enforced, let pid = o["pid"] as? Int
                    {
                        return Int32(pid)
                    }
                }
            }
            usleep(20_000)
        }
        XCTFail("no \(enforced) violation in \(log)")
        throw XCTSkip("no violation")
    }

    /// Descendants of pid in state T (stopped).
    static func stoppedDescendants(of root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        for pid in pids {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { children[ppid, default: []].append(pid) }
        }
        var out: [Int32] = []
        var queue = children[root] ?? []
        while let pid = queue.popLast() {
            if ProcFS.state(of: pid) == "T" { out.append(pid) }
            queue += children[pid] ?? []
        }
        return out
    }
}

enum ProcFSLite {
    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}
