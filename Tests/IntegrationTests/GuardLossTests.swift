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

    /// The tree cannot stop or end its guard (issue 12, class 7; settings.tamper, kill by default): a process of
    /// the tree finds the guard as its parent in /proc, as an attacker would, and sends it SIGTERM, then SIGSTOP,
    /// then runs `rm -rf VICTIM` (as `$X -rf`: judged at rm's own exec, not in the shell text). A stopped guard
    /// would leave that rm held and the run hanging; an obeyed SIGTERM would end the run. Each sender is killed
    /// before it writes its mark, the run ends on its own with the rm killed, and a process signalling its own
    /// child raises nothing.
    func testTreeCannotStopOrEndItsGuard() throws {
        let v = try victim()
        let guardPid = dir.appendingPathComponent("guard-pid").path
        let termMark = dir.appendingPathComponent("term-sender-ran-on").path
        let stopMark = dir.appendingPathComponent("stop-sender-ran-on").path
        let endMark = dir.appendingPathComponent("end-of-script").path
        let script = """
            g=$(awk '/^PPid:/ {print $2}' /proc/$$/status); echo $g > \(guardPid)
            sleep 30 & s=$!; kill -TERM $s; wait $s
            (kill -TERM $g; : > \(termMark))
            (kill -STOP $g; : > \(stopMark))
            X=rm; $X -rf \(v)
            : > \(endMark)
            """
        let r = try Guard.run(["run", "--policy", policyPath, "--format", "json", "--", "bash", "-c", script])
        XCTAssertTrue(FileManager.default.fileExists(atPath: v + "/sub/file"), "rm -rf ran: \(v) lost\n\(r.stderr)")
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: endMark), "the run ended before its command:\n\(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: termMark), "the SIGTERM sender ran on")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopMark), "the SIGSTOP sender ran on")
        let g = try XCTUnwrap(
            Int(try String(contentsOfFile: guardPid, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let violations = Guard.jsonLines(r.stdout).filter { $0["rule"] != nil }
        let tamper = violations.filter { $0["rule"] as? String == "settings.tamper" }
        XCTAssertEqual(tamper.map { $0["signal"] as? String }, ["SIGTERM", "SIGSTOP"], r.stdout)
        for t in tamper {
            XCTAssertEqual(t["target_pid"] as? Int, g, "not the guard: \(t)")
            XCTAssertEqual(t["enforced"] as? String, "killed", "\(t)")
            XCTAssertEqual(t["guard_continued"] as? Bool, t["signal"] as? String == "SIGSTOP", "\(t)")
        }
        XCTAssertEqual(
            Set(violations.compactMap { $0["rule"] as? String }), ["settings.tamper", "rm-recursive-force"],
            "the sleep's own SIGTERM is no violation: \(r.stdout)")
    }

    /// SIGKILL of the guard by its own tree cannot be undone: the sender dies with it, the watchdog fails closed
    /// (the tree is killed, its rm never runs) and names the sender.
    func testTreeKillingItsGuardFailsClosedAndIsNamed() throws {
        let v = try victim()
        let mark = dir.appendingPathComponent("kill-sender-ran-on").path
        let bg = try Guard.Background([
            "run", "--policy", policyPath, "--", "bash", "-c",
            "g=$(awk '/^PPid:/ {print $2}' /proc/$$/status); (kill -KILL $g; : > \(mark)); X=rm; $X -rf \(v); echo sur\"\"vived",
        ])
        _ = bg.wait()
        XCTAssertEqual(bg.process.terminationReason, .uncaughtSignal, bg.stderr)
        XCTAssertEqual(bg.process.terminationStatus, SIGKILL, bg.stderr)
        XCTAssertTrue(Guard.waitUntil { bg.stderr.contains("of the guarded tree sent the guard SIGKILL") }, bg.stderr)
        XCTAssertTrue(bg.stderr.contains("the guard was lost"), bg.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: v + "/sub/file"), "rm -rf ran: \(v) lost")
        XCTAssertFalse(FileManager.default.fileExists(atPath: mark), "the SIGKILL sender ran on")
        XCTAssertFalse(bg.stdout.contains("survived"), bg.stdout)
    }

    /// Two SIGKILLs from two processes of the tree, the watchdog's then the guard's, would leave nobody holding the
    /// programs: after the first, every process of the tree dies at its next system call, so there is no second.
    func testTreeKillingTheWatchdogDiesWhole() throws {
        let v = try victim()
        let mark = dir.appendingPathComponent("tree-ran-on").path
        let script = """
            g=$(awk '/^PPid:/ {print $2}' /proc/$$/status)
            for c in $(cat /proc/$g/task/*/children); do [ $c != $$ ] && (kill -KILL $c); done
            : > \(mark); (kill -KILL $g); X=rm; $X -rf \(v)
            """
        let r = try Guard.run(["run", "--policy", policyPath, "--format", "json", "--", "bash", "-c", script])
        XCTAssertTrue(FileManager.default.fileExists(atPath: v + "/sub/file"), "rm -rf ran: \(v) lost\n\(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: mark), "the tree ran on after killing the watchdog")
        XCTAssertEqual(r.status, 3, "the guard itself lives and reports: \(r.stderr)")
        XCTAssertTrue(
            Guard.jsonLines(r.stdout).contains {
                $0["rule"] as? String == "settings.tamper" && $0["signal"] as? String == "SIGKILL"
            }, r.stdout)
    }
}
