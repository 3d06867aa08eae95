import Foundation
import XCTest

/// Losing the guard fails closed (SPEC §2, §6): a SIGKILLed guard leaves its kernel programs attached through
/// the watchdog, what would have been held gets on_timeout (kill) in the kernel, and a `run` tree is killed.
final class GuardLossTests: XCTestCase {
    static let policy = Guard.testPolicy("guard-loss-test", rules: Guard.rmRecursiveForce)

    var dir: URL!
    var policyPath: String!

    override func setUpWithError() throws {
        (dir, policyPath) = try Guard.policyDir(Self.policy)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// A victim directory outside every temporary place the tests write to.
    func victim() throws -> String {
        let v = "/srv/cg-loss-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: v + "/sub", withIntermediateDirectories: true)
        try "precious".write(toFile: v + "/sub/file", atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: v) }
        return v
    }

    func waitFor(_ path: String, timeout: TimeInterval = 10) {
        let deadline = Date().addingTimeInterval(timeout)
        while !FileManager.default.fileExists(atPath: path) && Date() < deadline { usleep(10_000) }
    }

    func testAttachedTreeStaysGuardedAfterTheGuardIsKilled() throws {
        let v = try victim()
        let go = dir.appendingPathComponent("go").path
        let ran = dir.appendingPathComponent("ran").path
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/bin/bash")
        agent.arguments = ["-c", "while [ ! -e \(go) ]; do sleep 0.02; done; X=rm; $X -rf \(v); : > \(ran)"]
        try agent.run()
        let bg = try Guard.Background(["-p", String(agent.processIdentifier), "--policy", policyPath])
        try bg.waitReady()
        kill(bg.process.processIdentifier, SIGKILL)
        bg.process.waitUntilExit()
        FileManager.default.createFile(atPath: go, contents: nil)
        waitFor(ran)
        agent.waitUntilExit()
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: v + "/sub/file"), "the guard's loss let rm -rf run: \(v) lost")
        XCTAssertTrue(bg.stderr.contains("the guard was lost"), bg.stderr)
    }

    func testRunTreeIsKilledWhenTheGuardIsKilled() throws {
        let v = try victim()
        let ready = dir.appendingPathComponent("ready").path
        let gate = try Guard.Gate(in: dir)
        let bg = try Guard.Background([
            "run", "--policy", policyPath, "--", "bash", "-c",
            "echo $$ > \(ready).tmp; mv \(ready).tmp \(ready); \(gate.wait); rm -r \(v); echo survived",
        ])
        waitFor(ready)
        let tree = try XCTUnwrap(
            Int32(try String(contentsOfFile: ready, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(bg.process.processIdentifier, SIGKILL)
        bg.process.waitUntilExit()
        // The watchdog kills the tree: once it is gone, a go would find no one (else the command goes on).
        XCTAssertTrue(Guard.waitGone(tree), "the tree outlived its guard")
        gate.open(timeout: 0.5)
        XCTAssertTrue(FileManager.default.fileExists(atPath: v + "/sub/file"), "the tree outlived its guard: \(v) lost")
        XCTAssertFalse(bg.stdout.split(separator: "\n").contains("survived"), "the command ran on: \(bg.stdout)")
        XCTAssertTrue(bg.stderr.contains("killing the guarded command's tree"), bg.stderr)
    }
}
