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
        FileManager.default.createFile(atPath: go, contents: nil)
        usleep(500_000)
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
