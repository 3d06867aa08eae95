import Foundation
import XCTest

/// The kernel's maps are finite: a fork it cannot track or a hold it cannot record must never let a descendant
/// run unguarded. Each test shrinks one map (CLAUDE_GUARD_TEST_*_MAX, debug builds only), fills it, and tries to
/// delete a victim from the process the full map left out.
final class FailClosedTests: XCTestCase {
    /// Exec rules only: no file rule, so no Landlock layer that would save the victim on its own.
    static let policy = """
        version: 1
        name: fail-closed-test
        mode: enforce
        default: allow
        settings:
          hold_timeout_ms: 600000
          on_timeout: kill
        rules:
          - id: rm-recursive-force
            match:
              command: rm
              flags: [r|R|recursive, f|force]
            action: kill
          - id: stop-marked-touch
            match: { command: touch, args: ["*stopme*"] }
            action: stop
        """

    var dir: URL!
    var policyPath: String { dir.appendingPathComponent("policy.yaml").path }
    var victim: String { dir.appendingPathComponent("victim").path }
    var log: String { dir.appendingPathComponent("events.jsonl").path }

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = try Guard.tempDir()
        try Self.policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try "precious".write(toFile: victim + "/file", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// The summary record of the -o log.
    func summary() throws -> [String: Any] {
        let events = Guard.jsonLines(try String(contentsOfFile: log, encoding: .utf8))
        return try XCTUnwrap(events.last { $0["type"] as? String == "summary" })
    }

    func testForkTheTrackedMapHasNoRoomForIsKilledBeforeItDoesAnything() throws {
        // The root and three sleeps fill a map of four; the fifth process of the tree is the delete.
        let script =
            "sleep 1000 & sleep 1000 & sleep 1000 & X=rm; $X -rf \(victim); echo \"rm: $?\"; kill %1 %2 %3; wait"
        let r = try Guard.run(
            ["run", "--policy", policyPath, "-o", log, "--", "bash", "-c", script],
            env: ["CLAUDE_GUARD_TEST_TRACKED_MAX": "4"])
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: victim + "/file"), "victim deleted\n\(r.stdout)\n\(r.stderr)")
        XCTAssertTrue(r.stdout.contains("rm: 137"), "the untracked child dies by SIGKILL\n\(r.stdout)\n\(r.stderr)")
        XCTAssertTrue(r.stderr.contains("could not be tracked (the kernel's tracked map is full)"), r.stderr)
        XCTAssertGreaterThanOrEqual(try summary()["untracked"] as? Int ?? 0, 1)
    }

    func testExecTheHeldMapHasNoRoomForGetsOnTimeoutInTheKernel() throws {
        // A `stop` keeps the touch in a held map of one; the delete's hold finds no room. Its parent continues it
        // at once: without a hold entry the resume guard would not stop it.
        let stopped = dir.appendingPathComponent("stopme").path
        let script = """
            X=touch; $X \(stopped) & T=$!
            until read -r st < /proc/$T/stat; s=${st##*) }; [ "${s%% *}" = T ]; do :; done
            X=rm; $X -rf \(victim) & R=$!; for ((i = 0; i < 1000; i++)); do kill -CONT $R 2>/dev/null; done; wait $R; echo "rm: $?"; kill -KILL $T; wait
            """
        let r = try Guard.run(
            ["run", "--policy", policyPath, "-o", log, "--", "bash", "-c", script],
            env: ["CLAUDE_GUARD_TEST_HELD_MAX": "1"])
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: victim + "/file"), "victim deleted\n\(r.stdout)\n\(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopped), "the stopped touch never ran")
        XCTAssertTrue(r.stdout.contains("rm: 137"), "killed in the kernel (on_timeout: kill)\n\(r.stdout)\n\(r.stderr)")
        XCTAssertTrue(r.stderr.contains("could not be held (the kernel's held map is full): killed"), r.stderr)
        XCTAssertGreaterThanOrEqual(try summary()["unheld"] as? Int ?? 0, 1)
    }
}
