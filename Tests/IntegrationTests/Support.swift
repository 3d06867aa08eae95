import Foundation
import XCTest

/// Runs the built claude-guard binary on the real kernel. Root only: CI runs as root, so there these never skip.
enum Guard {
    /// The binary under test: $CLAUDE_GUARD_BIN, or the debug build next to the package.
    static var binary: String {
        if let env = ProcessInfo.processInfo.environment["CLAUDE_GUARD_BIN"] { return env }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/claude-guard").path
    }

    static func requireRoot() throws {
        if geteuid() != 0 { throw XCTSkip("needs root to load BPF programs (CI runs as root)") }
        if !FileManager.default.isExecutableFile(atPath: binary) {
            throw XCTSkip("claude-guard is not built at \(binary)")
        }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutData: Data
    }

    /// Runs a program to completion, capturing its output.
    @discardableResult
    static func exec(
        _ path: String, _ args: [String], env: [String: String]? = nil, timeout: TimeInterval = 60
    ) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        if let env { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTFail("\(path) \(args) timed out after \(timeout)s")
        }
        p.waitUntilExit()
        let o = try Data(contentsOf: out)
        return Result(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self), stdoutData: o)
    }

    /// `claude-guard ARGS`.
    @discardableResult
    static func run(_ args: [String], env: [String: String]? = nil, timeout: TimeInterval = 60) throws -> Result {
        try exec(binary, args, env: env, timeout: timeout)
    }

    /// A guard started in the background (for -p); stopped with SIGINT.
    final class Background {
        let process = Process()
        let dir: URL
        var stdoutPath: String { dir.appendingPathComponent("out").path }
        var stderrPath: String { dir.appendingPathComponent("err").path }

        init(_ args: [String]) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: Guard.binary)
            process.arguments = args
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

        /// Waits until the guard says it is guarding (programs attached, tree seeded).
        func waitReady(timeout: TimeInterval = 20) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if stderr.contains("claude-guard: guarding") { return }
                if !process.isRunning { break }
                usleep(10_000)
            }
            XCTFail("guard not ready: \(stderr)")
            throw XCTSkip("guard did not start")
        }

        /// Waits for the guard to exit by itself; returns its status.
        func wait(timeout: TimeInterval = 30) -> Int32 {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning {
                XCTFail("guard did not exit in \(timeout)s")
                stop()
            }
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// SIGINT, then wait.
        @discardableResult
        func stop() -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: dir)
        }
    }

    /// Parses JSON Lines; fails the test on any line that is not valid JSON.
    static func jsonLines(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { l in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else {
                XCTFail("not a JSON object: \(l.prefix(300))", file: file, line: line)
                return nil
            }
            return obj
        }
    }

    /// Exec events one of whose arguments is exactly the marker (not a shell string that mentions it).
    static func execs(_ events: [[String: Any]], containing marker: String) -> [[String: Any]] {
        events.filter { e in
            (e["type"] as? String) == "exec" && ((e["argv"] as? [String]) ?? []).contains(marker)
        }
    }

    /// Debian's python3 (not a pyenv shim, which would add execs of its own).
    static let python = "/usr/bin/python3"

    /// A fresh temporary directory.
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-t-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A go signal for a guarded script: the script blocks in `read` on a FIFO (a shell builtin: no fork, no exec
    /// for the guard to see) until the test opens it, so it acts when the test is ready, not after a sleep.
    struct Gate {
        let path: String

        /// Makes the FIFO in dir.
        init(in dir: URL, name: String = "go") throws {
            path = dir.appendingPathComponent(name + ".fifo").path
            guard mkfifo(path, 0o600) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }

        /// The shell command that waits for the gate.
        var wait: String { "read -r _ < \(path)" }

        /// Lets the waiting script go on: once it has the FIFO open for reading (it is waiting), writes a line.
        /// False if no reader came (the script died first).
        @discardableResult
        func open(timeout: TimeInterval = 20) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                // Non-blocking: ENXIO until the script opens its end.
                let fd = Glibc.open(path, O_WRONLY | O_NONBLOCK)
                if fd >= 0 {
                    _ = Glibc.write(fd, "\n", 1)
                    close(fd)
                    return true
                }
                usleep(10_000)
            }
            return false
        }
    }

    /// Waits until a process is gone (or a zombie); false if it is still running after the timeout.
    @discardableResult
    static func waitGone(_ pid: Int32, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            if stat.split(separator: ")").last?.split(separator: " ").first == "Z" { return true }
            usleep(10_000)
        }
        return false
    }

    /// Waits until `condition` holds, polling; false if it still does not after the timeout (a generous deadline:
    /// the condition is a real signal, never a guess at how long something takes).
    static func waitUntil(timeout: TimeInterval = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// The processes whose argv holds `text` (a zombie has none).
    static func processes(containing text: String) -> [Int32] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
        return pids.filter { pid in
            guard let argv = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: argv, as: UTF8.self).contains(text)
        }
    }

    /// bash text that runs `command` in a daemon: a grandchild of the script, once its parent subshell has exited
    /// (it is reparented) and the script has exited too, as read from /proc (the script then ends: `exit 0`).
    static func orphaned(_ command: String) -> String {
        "( q=$BASHPID; ( while { read -r _ _ _ p _ < /proc/$BASHPID/stat && [ \"$p\" = \"$q\" ]; }"
            + " || { read -r _ _ s _ < /proc/$$/stat && [ \"$s\" != Z ]; } 2>/dev/null; do sleep 0.01; done; "
            + command + " ) & ); exit 0"
    }

    /// A unique marker for one test's commands.
    static func marker(_ name: String = #function) -> String {
        "m\(UInt32.random(in: 0...UInt32.max))-" + name.filter { $0.isLetter }
    }
}

/// The policies the integration tests write: one preamble and the rule most of their victims face.
extension Guard {
    /// A test policy named `name`: enforce, allow what no rule names, and kill a held exec that gets no verdict in
    /// 1.5 s; `settings` are more lines under `settings:` and `rules` the lines under `rules:` (each indented two
    /// spaces, as written in the file).
    static func testPolicy(_ name: String, settings: String = "", rules: String) -> String {
        """
        version: 1
        name: \(name)
        mode: enforce
        default: allow
        settings:
          hold_timeout_ms: 1500
          on_timeout: kill
        \(settings.isEmpty ? "" : settings + "\n")rules:
        \(rules)
        """
    }

    /// argv exec'd straight from Python (`os.execv`): no shell text names it, so only its own exec is judged.
    static func execv(_ argv: [String]) -> [String] {
        [python, "-c", "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"] + argv
    }

    /// The victim kept its file, the run failed with 3, and an exec was killed while held (by `rule`, when given).
    static func assertKilled(
        _ r: Result, _ victim: String, _ what: String, rule: String? = nil, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: victim + "/file"),
            "victim deleted by: \(what)\n\(r.stdout)\n\(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.status, 3, "violation exit code for: \(what)\n\(r.stderr)", file: file, line: line)
        let v = jsonLines(r.stdout, file: file, line: line).filter { $0["rule"] != nil }
        XCTAssertTrue(
            v.contains { $0["enforced"] as? String == "killed" && (rule == nil || $0["rule"] as? String == rule) },
            "no kill at exec for \(what)\(rule.map { " by " + $0 } ?? ""): \(r.stdout)", file: file, line: line)
    }

    /// `rm -rf` in any spelling of -r and -f, killed (critical).
    static let rmRecursiveForce = """
          - id: rm-recursive-force
            match: { command: rm, flags: [r|R|recursive, f|force] }
            action: kill
            severity: critical
        """

    /// A victim directory in `dir` holding `file` ("precious"): it must survive what a test denies.
    static func victim(in dir: URL) throws -> String {
        let v = dir.appendingPathComponent("victim-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(at: v, withIntermediateDirectories: true)
        try "precious".write(to: v.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        return v.path
    }

    /// A fresh temporary directory for one test, holding `policy` as policy.yaml; skips unless root.
    static func policyDir(_ policy: String) throws -> (dir: URL, policyPath: String) {
        try requireRoot()
        let dir = try tempDir()
        let path = dir.appendingPathComponent("policy.yaml").path
        try policy.write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }
}
