import Foundation
import XCTest

/// Issue 19, fewer holds, on the real kernel: a program held only because rules name some of its arguments (git
/// push, git reset) passes in the kernel when its argv has none of the rules' words, and every way around that
/// check is still held and killed. One guard run: the victims must survive.
final class HoldWordsTests: XCTestCase {
    static let policy = """
        version: 1
        name: hold-words-test
        mode: enforce
        default: allow
        settings:
          hold_timeout_ms: 5000
          on_timeout: kill
          preload: kill
        rules:
          - id: rm-recursive-force
            match: { command: rm, flags: [r|R|recursive, f|force] }
            action: kill
          - id: git-push-force
            match: { command: git, args: [push], flags: [f|force] }
            action: kill
          - id: git-reset-hard
            match: { command: git, args: [reset], flags: [hard] }
            action: kill
        """

    func testArgvWithoutTheRulesWordsPassesInTheKernelAndEveryWayAroundIsHeld() throws {
        try Guard.requireRoot()
        let dir = try Guard.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = dir.path
        let policyPath = d + "/policy.yaml"
        let log = d + "/events.jsonl"
        try Self.policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
        let victims = (1...3).map { "\(d)/victim\($0)" }
        for v in victims {
            try FileManager.default.createDirectory(atPath: v, withIntermediateDirectories: true)
            try "precious".write(toFile: v + "/file", atomically: true, encoding: .utf8)
        }
        // A script file, not `bash -c`: the shell's own text names every kill and would be judged with them.
        // The long argv puts its push word past the 16 KiB the kernel copies: the cut argv is held and read whole.
        let script = """
            git init -q \(d)/repo && cd \(d)/repo || exit 9
            for i in 1 2 3 4 5 6 7 8 9 10 11 12; do git status >/dev/null; done
            git push --force /nonexistent 2>/dev/null; echo "push: $?"
            git -c alias.wipe='!rm -rf \(victims[0])' wipe; echo "alias: $?"
            ln -s /bin/rm \(d)/git; \(d)/git -rf \(victims[1]); echo "rm-named-git: $?"
            ln -s /usr/bin/git \(d)/rm; \(d)/rm -rf \(victims[2]); echo "git-named-rm: $?"
            pad=; for ((i = 0; i < 9000; i++)); do pad+="x "; done
            git $pad push --force /nonexistent 2>/dev/null; echo "long: $?"
            LD_PRELOAD=\(d)/none.so git status >/dev/null 2>&1; echo "preload: $?"
            """
        try script.write(toFile: d + "/script.sh", atomically: true, encoding: .utf8)
        let r = try Guard.run(["run", "--policy", policyPath, "-q", "-o", log, "--", "bash", d + "/script.sh"])
        let out = String((r.stdout + r.stderr).prefix(4000))
        for v in victims { XCTAssertTrue(FileManager.default.fileExists(atPath: v + "/file"), "\(v) deleted\n\(out)") }
        for what in ["push", "alias", "rm-named-git", "git-named-rm", "long", "preload"] {
            XCTAssertTrue(r.stdout.contains("\(what): 137"), "\(what) is held and killed\n\(out)")
        }
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let summary = try XCTUnwrap(Guard.jsonLines(text).last { $0["type"] as? String == "summary" }, text)
        // Held: bash, the six kills, the first exec of ln: twelve `git status` held would make it at least 12.
        let held = try XCTUnwrap(summary["held"] as? Int, "\(summary)")
        XCTAssertLessThan(held, 12, "git status passes in the kernel\n\(summary)")
        XCTAssertGreaterThanOrEqual(held, 6, "each kill was a hold (none decided in the kernel)\n\(summary)")
    }
}
