import Foundation
import XCTest

@testable import GuardCore

/// ExecLinker: which exec runs which tool use, and what descends from it.
final class HTTPLinkTests: XCTestCase {
    private func argv(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    /// A command quoted as Claude Code's shell quoting does: single quotes, `'` written `'\''`.
    private func claudeCode(_ command: String) -> [[UInt8]] {
        let quoted = "'" + command.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        return argv(
            "/bin/bash", "-c", "-l",
            "source /root/.claude/shell-snapshots/snapshot-bash-1.sh && eval \(quoted) \\< /dev/null && pwd -P >| /tmp/claude-ab12-cwd"
        )
    }

    private func bash(_ id: String, _ command: String) -> ToolUse {
        ToolUse(id: id, name: "Bash", input: .object([JSONValue.Member("command", .string(command))]))
    }

    private let noParents: (Int32) -> Int32? = { _ in nil }

    func testClaudeCodeWrapperRunsTheToolUseAndItsTreeInherits() {
        let commands = [
            "rm -rf /srv/data", "echo 'it''s' \"$HOME\" | tr a-z A-Z", "cat <<'EOF'\nmulti\nline\nEOF",
            "for f in *.c; do gcc -c \"$f\"; done", "  spaced command  ",
        ]
        for (k, command) in commands.enumerated() {
            var l = ExecLinker()
            l.expect(bash("toolu_\(k)", command), agent: 10, root: 10, monotonicNs: 0)
            XCTAssertEqual(
                l.exec(pid: 20, ppid: 10, root: 10, argv: claudeCode(command), monotonicNs: 1, parentOf: noParents),
                .runs("toolu_\(k)"), command)
            XCTAssertEqual(
                l.exec(pid: 21, ppid: 20, argv: argv("rm", "-rf", "/srv/data"), monotonicNs: 2, parentOf: noParents),
                .inherits("toolu_\(k)"))
            XCTAssertEqual(l.expectedCount, 0)
        }
    }

    func testEachToolUseIsRunOnceInOrderAndOnlyByItsAgentsChildren() {
        var l = ExecLinker()
        l.expect(bash("toolu_a", "make"), agent: 10, root: 10, monotonicNs: 0)
        l.expect(bash("toolu_b", "make"), agent: 10, root: 10, monotonicNs: 1)
        l.expect(bash("toolu_c", "make"), agent: 50, root: 50, monotonicNs: 2)
        XCTAssertEqual(
            l.exec(pid: 51, ppid: 50, root: 50, argv: claudeCode("make"), monotonicNs: 3, parentOf: noParents),
            .runs("toolu_c"))
        XCTAssertEqual(
            l.exec(pid: 11, ppid: 10, root: 10, argv: claudeCode("make"), monotonicNs: 4, parentOf: noParents),
            .runs("toolu_a"))
        XCTAssertEqual(
            l.exec(pid: 12, ppid: 10, root: 10, argv: claudeCode("make"), monotonicNs: 5, parentOf: noParents),
            .runs("toolu_b"))
        XCTAssertNil(l.exec(pid: 13, ppid: 10, root: 10, argv: claudeCode("make"), monotonicNs: 6, parentOf: noParents))
    }

    func testAForkedSubshellAndAnAgentAboveAWrapperAreFoundThroughParents() {
        // 10 agent -> 15 (a helper that never exec'd) -> 20 bash (runs it) -> 30 subshell (fork only) -> 40 rm
        let parents: [Int32: Int32] = [15: 10, 20: 15, 30: 20, 40: 30]
        let parentOf: (Int32) -> Int32? = { parents[$0] }
        var l = ExecLinker()
        l.expect(bash("toolu_x", "(cd /srv && rm -rf data)"), agent: 10, root: 10, monotonicNs: 0)
        XCTAssertEqual(
            l.exec(
                pid: 20, ppid: 15, root: 10, argv: claudeCode("(cd /srv && rm -rf data)"), monotonicNs: 1,
                parentOf: parentOf),
            .runs("toolu_x"))
        XCTAssertEqual(
            l.exec(pid: 40, ppid: 30, argv: argv("rm", "-rf", "data"), monotonicNs: 2, parentOf: parentOf),
            .inherits("toolu_x"))
        XCTAssertEqual(l.toolUse(of: 30, parentOf: parentOf), "toolu_x", "a file event of the subshell")
        // A re-exec of a linked process keeps its link; exits forget pids.
        XCTAssertEqual(
            l.exec(pid: 40, ppid: 30, argv: argv("true"), monotonicNs: 3, parentOf: parentOf), .inherits("toolu_x"))
        l.exited(40)
        XCTAssertEqual(l.exec(pid: 40, ppid: 1, argv: argv("true"), monotonicNs: 4, parentOf: { _ in nil }), nil)
    }

    func testCommandsTheModelNeverAskedForShowWhoseSubtreeTheyAreIn() {
        var l = ExecLinker()
        l.expect(bash("toolu_s", "./build.sh"), agent: 10, root: 10, monotonicNs: 0)
        XCTAssertEqual(
            l.exec(pid: 20, ppid: 10, argv: claudeCode("./build.sh"), monotonicNs: 1, parentOf: noParents),
            .runs("toolu_s"))
        XCTAssertEqual(
            l.exec(pid: 21, ppid: 20, argv: argv("/bin/sh", "./build.sh"), monotonicNs: 2, parentOf: noParents),
            .inherits("toolu_s"))
        XCTAssertEqual(
            l.exec(pid: 22, ppid: 21, argv: argv("cc", "-o", "x", "x.c"), monotonicNs: 3, parentOf: noParents),
            .inherits("toolu_s"))
        XCTAssertNil(
            l.exec(pid: 30, ppid: 10, argv: argv("git", "status"), monotonicNs: 4, parentOf: noParents),
            "the agent's own exec")
    }

    func testArgvCommandsAndPlainShellPayloads() {
        var l = ExecLinker()
        let codex = ToolUse(
            id: "call_1", name: "shell",
            input: .object([JSONValue.Member("command", .array([.string("bash"), .string("-lc"), .string("ls -l")]))]))
        l.expect(codex, agent: 10, monotonicNs: 0)
        l.expect(bash("toolu_p", "npm test"), agent: 10, monotonicNs: 0)
        XCTAssertEqual(
            l.exec(pid: 11, ppid: 10, argv: argv("/usr/bin/bash", "-lc", "ls -l"), monotonicNs: 1, parentOf: noParents),
            .runs("call_1"))
        XCTAssertEqual(
            l.exec(pid: 12, ppid: 10, argv: argv("sh", "-c", "npm test"), monotonicNs: 1, parentOf: noParents),
            .runs("toolu_p"))
    }

    func testAToolUseDecodedJustAfterItsExecLinksIt() {
        var l = ExecLinker()
        l.expect(bash("toolu_0", "true"), agent: 10, monotonicNs: 0)  // the agent is known
        _ = l.exec(pid: 11, ppid: 10, argv: claudeCode("true"), monotonicNs: 1, parentOf: noParents)
        XCTAssertNil(l.exec(pid: 12, ppid: 10, argv: claudeCode("sleep 1"), monotonicNs: 2, parentOf: noParents))
        XCTAssertEqual(l.expect(bash("toolu_1", "sleep 1"), agent: 10, monotonicNs: 3), 12)
        XCTAssertEqual(
            l.exec(pid: 13, ppid: 12, argv: argv("sleep", "1"), monotonicNs: 4, parentOf: noParents),
            .inherits("toolu_1"))
    }

    func testToolsWithoutACommandAreNotExpectedAndOldOnesExpire() {
        var l = ExecLinker()
        l.expect(
            ToolUse(
                id: "toolu_r", name: "Read", input: .object([JSONValue.Member("file_path", .string("/etc/hosts"))])),
            agent: 10, monotonicNs: 0)
        XCTAssertEqual(l.expectedCount, 0)
        l.expectTTLNs = 1000
        l.expect(bash("toolu_old", "ls"), agent: 10, monotonicNs: 0)
        l.expect(bash("toolu_new", "pwd"), agent: 10, monotonicNs: 5000)
        XCTAssertEqual(l.expectedCount, 1)
        XCTAssertNil(l.exec(pid: 11, ppid: 10, argv: claudeCode("ls"), monotonicNs: 5001, parentOf: noParents))
    }
}
