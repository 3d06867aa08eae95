import Foundation
import XCTest

@testable import GuardCore

/// Lines typed into an interactive bash (issue 17), judged without a kernel: continued commands, aliases and
/// functions defined earlier, redirections by the file rules, and the `bash` event's JSON and text.
final class InteractiveShellTests: XCTestCase {
    let policy = """
        version: 1
        name: t
        default: allow
        rules:
          - id: rm-rf
            match: { command: rm, flags: [r|R|recursive, f|force] }
            action: kill
        files:
          - id: protected
            paths: { under: ['/srv/p/*'] }
            access: [write, truncate, create]
            action: deny
          - id: secrets
            paths: { under: ['/srv/s/*'] }
            access: [read]
            action: alert
        """

    func judge(_ text: String, _ shell: InteractiveShell = InteractiveShell(), cwd: String = "/tmp") throws -> Verdict {
        try Policy.load(yaml: policy, file: "t.yaml").judgeInteractive(
            text, shell: shell, shellPath: "/usr/bin/bash", cwd: cwd, uid: 0, workspace: "/work", parent: nil)
    }

    func testCommandsThatGoOnAreIncomplete() {
        for text in ["for i in 1 2; do", "echo \"abc", "f() {", "if true; then", "echo a \\", "cat <<EOF\nline"] {
            XCTAssertTrue(InteractiveShell.incomplete(text), text)
        }
        for text in ["for i in 1 2; do echo $i; done", "echo \"abc\ndef\"", "f() { :; }", "echo a \\\\", "ls", "cat <<EOF\nx\nEOF"] {
            XCTAssertFalse(InteractiveShell.incomplete(text), text)
        }
    }

    func testPendingLinesJoinTheNextOne() {
        var shell = InteractiveShell()
        let first = shell.read("echo \"start")
        shell.goesOn(first)
        XCTAssertEqual(shell.read("end\" > /srv/p/file"), "echo \"start\nend\" > /srv/p/file")
        XCTAssertEqual(shell.pending, "")
    }

    func testRedirectionsAreJudgedByTheFileRules() throws {
        XCTAssertEqual(try judge("echo x > /srv/p/file").action, .kill, "a denied write ends the line")
        XCTAssertEqual(try judge("echo x > /srv/p/file").rule, "protected")
        XCTAssertEqual(try judge("cd /srv; echo x >> p/file", cwd: "/srv").action, .kill, "relative to the cwd")
        XCTAssertEqual(try judge("cat < /srv/s/key").action, .alert)
        XCTAssertEqual(try judge("echo x > /srv/other; echo 2>&1").action, .allow)
        XCTAssertEqual(try judge("echo x > \"$F\"").action, .allow, "an unknown target is left to the kernel")
    }

    func testEverydayLinesPassTheShippedDefaultPolicy() throws {
        let p = try Policy.load(path: PolicyShippedTests.policyPath("default.yaml"))
        for line in [
            "ls -la > /dev/null && echo listed", "cd /tmp && export A=1", "echo hi > /tmp/cg-line-test 2>/dev/null",
            "grep -r foo . > /dev/null 2>&1 || true",
        ] {
            let v = p.judgeInteractive(
                line, shell: InteractiveShell(), shellPath: "/usr/bin/bash", cwd: "/tmp", uid: 0, workspace: "/tmp",
                parent: nil)
            XCTAssertEqual(v.action, .allow, "\(line): \(v)")
        }
    }

    func testCommandRulesJudgeTheLineAsABashPayload() throws {
        let v = try judge("echo before; rm -rf /srv/victim")
        XCTAssertEqual(v.action, .kill)
        XCTAssertEqual(v.matched, "rm -rf /srv/victim")
        XCTAssertEqual(try judge("cd /tmp && export A=1 && ls").action, .allow)
    }

    func testAliasesAreJudgedWhereCalled() throws {
        var shell = InteractiveShell()
        shell.learn("alias wipe='rm -rf /srv/victim' ll='ls -l'")
        XCTAssertEqual(shell.aliases["wipe"], "rm -rf /srv/victim")
        XCTAssertEqual(try judge("wipe", shell).action, .kill)
        XCTAssertEqual(try judge("ll /tmp", shell).action, .allow)
        shell.learn("unalias wipe")
        XCTAssertEqual(try judge("wipe", shell).action, .allow, "unalias forgets it")
    }

    func testFunctionsAreJudgedWhereCalledWithTheirArguments() throws {
        var shell = InteractiveShell()
        // A function is known by the line that defined it (judged whole where it is called).
        shell.learn("save() { echo x > \"$1\"; }")
        shell.learn("function del { rm -r -f \"$@\"; }")
        XCTAssertEqual(Set(shell.functions.keys), ["save", "del"])
        XCTAssertEqual(try judge("save /tmp/ok", shell).action, .allow)
        XCTAssertEqual(try judge("true && save /srv/p/file", shell).action, .kill)
        XCTAssertEqual(try judge("del /srv/victim", shell).action, .kill)
        shell.learn("unset -f save")
        XCTAssertNil(shell.functions["save"])
    }

    func testPayloadsAreBoundedWhenDefinitionsCallEachOther() {
        var shell = InteractiveShell()
        shell.learn("alias a='b x' b='a y'")
        XCTAssertLessThanOrEqual(shell.payloads("a").count, InteractiveShell.maxPayloads)
    }

    func testBashEventIsValidJSONAndTextShowsTheLine() throws {
        let e = BashLineEvent(
            pid: 7, ppid: 1, uid: 0, root: 7, comm: Array("bash".utf8), tty: "pts/3", cwd: Array("/tmp".utf8),
            line: Array("echo \"a\"\n".utf8) + [0xFF], truncated: true, held: true, killedInKernel: false,
            monotonicNs: 0, time: WallTime(seconds: 0, micros: 0))
        var w = JSONWriter()
        EventJSON.bash(e, into: &w)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        XCTAssertEqual(obj["type"] as? String, "bash")
        XCTAssertEqual(obj["tty"] as? String, "pts/3")
        XCTAssertEqual(obj["truncated"] as? Bool, true)
        let text = TextFormatter(options: TextOptions(), startNs: 0).bashLine(e)
        XCTAssertTrue(text.hasSuffix("BASH | echo \"a\"\\n\\xff ..."), text)
        XCTAssertEqual(BashLineEvent.ttyName(Array("pts3".utf8), index: 3), "pts/3")
        XCTAssertNil(BashLineEvent.ttyName([], index: -1))
    }
}
