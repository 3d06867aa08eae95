import Foundation
import XCTest

@testable import GuardCore

/// Issue 14's GuardCore side: `check --explain`/`test --explain` (point 11), `policy show` and shipped policies by
/// name (12), `--fail-on` (13), one violation per offending command (9), lint and test honesty (17).
final class CLIHonestyTests: XCTestCase {
    let ws = "/home/agent/project"

    func write(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-honest-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: - 11: --explain

    func testCheckExplainListsEveryRuleTriedAndTheFirstKeyThatFailed() {
        let p = Policy.embeddedDefault
        let ctx = ExecContext(
            argv: ["bash", "-c", "rm -rf /tmp/x; sudo ls /root"], path: "/usr/bin/bash", cwd: ws, workspace: ws)
        let out = PolicyTool.check(policy: p, argv: ctx.argv, workspace: ws, cwd: ws, explain: true)
        XCTAssertEqual(out.exitCode, 1)
        let text = out.stdout
        // The shell, then each command of its payload, then what sudo wraps, indented by depth.
        XCTAssertTrue(text.hasPrefix("bash -c 'rm -rf /tmp/x; sudo ls /root'"), text)
        XCTAssertTrue(text.contains("\n    rm -rf /tmp/x   (in \(ws))\n"), text)
        XCTAssertTrue(text.contains("      rm-rf-root-home-parent: no: regex ["), text)
        XCTAssertTrue(text.contains("      rm-scratch: MATCHES: allow\n"), text)
        XCTAssertTrue(text.contains("      privilege: MATCHES: alert\n"), text)
        XCTAssertTrue(text.contains("\n      ls /root   (in \(ws))\n"), text)
        XCTAssertTrue(text.contains("verdict: alert by rule privilege for `sudo ls /root`"), text)
        XCTAssertTrue(
            text.hasSuffix(
                "alert privilege (medium): bash -c 'rm -rf /tmp/x; sudo ls /root' [matched: sudo ls /root]\n"), text)
        // Rules of other programs are counted, not listed; the verdict line is the same as without --explain.
        XCTAssertTrue(text.contains("rules for other programs not tried"), text)
        let plain = PolicyTool.check(policy: p, argv: ctx.argv, workspace: ws, cwd: ws)
        XCTAssertTrue(text.hasSuffix(plain.stdout))
    }

    func testExplainNamesEachKindOfMiss() throws {
        let p = try Policy.load(
            yaml: """
                version: 1
                rules:
                  - { id: push-force, match: { command: git, args: [push], flags: [f|force] }, action: stop }
                  - { id: etc, match: { command: git, paths: { under: [/etc] } }, action: alert }
                  - { id: gh, match: { command: git, hosts_outside: [github.com] }, action: kill }
                """, file: "e.yaml")
        let text = Explain.line("git push origin main", policy: p, cwd: ws, workspace: ws).text
        XCTAssertTrue(text.contains("push-force: no: flags [f|force]: not all present"), text)
        XCTAssertTrue(text.contains("etc: no: paths: no path operand lies under [/etc]"), text)
        XCTAssertTrue(text.contains("gh: no: hosts_outside: no host the command names lies outside [github.com]"), text)
        XCTAssertTrue(text.contains("no rule matched: default allow"), text)
        let hit = Explain.line("git push -f https://evil.example/r", policy: p, cwd: ws, workspace: ws).text
        XCTAssertTrue(hit.contains("push-force: MATCHES: stop"), hit)
    }

    func testTestExplainExplainsFailures() throws {
        let path = try write(
            "t.yaml",
            "version: 1\nrules:\n  - { id: rm, match: { command: rm, flags: [r] }, action: kill }\n"
                + "tests:\n  - { command: 'rm -f x', expect: kill }\n")
        let out = PolicyTool.test(paths: [path], explain: true)
        XCTAssertEqual(out.exitCode, 1)
        XCTAssertTrue(out.stdout.contains("FAIL \(path):5:5: rm -f x: expected kill, got allow"), out.stdout)
        XCTAssertTrue(
            out.stdout.contains("      rm -f x   (in \(ws))\n        rm: no: flags [r]: not all present"), out.stdout)
    }

    // MARK: - 12: policy show, shipped policies by name

    func testShippedPoliciesAreFoundByName() throws {
        XCTAssertEqual(PolicyLocator.locate("default"), .embeddedDefault)
        guard case .file(let strict) = PolicyLocator.locate("strict") else {
            return XCTFail("strict not found in \(PolicyLocator.searchDirectories())")
        }
        XCTAssertTrue(strict.hasSuffix("/policies/strict.yaml"), strict)
        XCTAssertEqual(try PolicyLocator.load("ci").name, "ci")
        XCTAssertEqual(PolicyLocator.locate("./strict"), .file("./strict"))
        XCTAssertThrowsError(try PolicyLocator.load("no-such-policy")) { e in
            XCTAssertTrue("\(e)".contains("no shipped policy has that name (shipped: default, "), "\(e)")
        }
        XCTAssertEqual(PolicyTool.test(paths: ["default"]).exitCode, 0)
    }

    func testPolicyShowFillsInDefaults() throws {
        let path = try write(
            "s.yaml",
            """
            version: 1
            rules:
              - { id: a, match: { command: rm, paths: { outside: &out ['${workspace}', /tmp] } }, action: kill }
              - { id: b, match: { command: find, paths: { outside: *out } }, action: alert, severity: high }
            """)
        let out = PolicyTool.show(path)
        XCTAssertEqual(out.exitCode, 0, out.stderr)
        let y = out.stdout
        XCTAssertTrue(y.hasPrefix("# s: \(path)\n"), y)
        for line in [
            "name: s", "mode: enforce", "default: allow", "hold_timeout_ms: 2000", "on_timeout: kill",
            "unknown_command: allow", "unparsable: alert", "severity: high",
        ] {
            XCTAssertTrue(y.contains(line), "\(line) in\n\(y)")
        }
        XCTAssertEqual(y.components(separatedBy: "severity: high").count, 3, y)  // a's default (kill: high), b's
        XCTAssertFalse(y.contains("*out"), y)  // aliases expanded
        // What it prints loads as the same policy.
        let again = try Policy.load(yaml: y, file: "again.yaml")
        XCTAssertEqual(again.rules.map(\.id), ["a", "b"])
        XCTAssertEqual(again.rules.map { $0.severity }, [.high, .high])
        let embedded = PolicyTool.show(nil)
        XCTAssertTrue(embedded.stdout.hasPrefix("# default: embedded default\n"), embedded.stdout)
        XCTAssertEqual(
            try Policy.load(yaml: embedded.stdout, file: "d.yaml").rules.count, Policy.embeddedDefault.rules.count)
        XCTAssertEqual(PolicyTool.show("/no/such.yaml").exitCode, 2)
    }

    // MARK: - 13: --fail-on

    func testFailCriteria() throws {
        func v(_ action: String, _ sev: String) -> Violation {
            Violation(rule: "r", action: action, enforced: "x", severity: sev, policy: "p", matched: "m")
        }
        XCTAssertTrue(FailCriteria().fails(v("alert", "info")))
        let killStop = FailCriteria(actions: try FailCriteria.actions("kill, stop"))
        XCTAssertTrue(killStop.fails(v("kill", "low")))
        XCTAssertFalse(killStop.fails(v("alert", "critical")))
        let high = FailCriteria(minSeverity: .high)
        XCTAssertTrue(high.fails(v("alert", "critical")))
        XCTAssertFalse(high.fails(v("kill", "medium")))
        XCTAssertThrowsError(try FailCriteria.actions("kill,block")) { e in
            XCTAssertTrue("\(e)".contains("not 'block'"), "\(e)")
        }
    }

    // MARK: - 9: one offending command, one violation

    func testARepeatedPayloadViolationIsLinkedToTheShellThatCarriedIt() {
        func v(_ matched: String) -> Violation {
            Violation(
                rule: "privilege", action: "alert", enforced: "alerted", severity: "medium", policy: "p",
                matched: matched)
        }
        var c = CarriedViolations()
        // bash -c 'true; sudo -n true' (pid 10) alerted for its payload; bash execs sudo in the same pid, or forks.
        XCTAssertNil(c.admit(pid: 10, ppid: 1, violation: v("sudo -n true")))
        XCTAssertEqual(c.admit(pid: 10, ppid: 1, violation: v("sudo -n true")), 10)
        XCTAssertNil(c.admit(pid: 11, ppid: 10, violation: nil))
        XCTAssertEqual(c.admit(pid: 12, ppid: 11, violation: v("sudo -n true")), 10)
        // Another command, or the same one elsewhere in the tree, is a violation of its own.
        XCTAssertNil(c.admit(pid: 13, ppid: 10, violation: v("sudo -n false")))
        XCTAssertNil(c.admit(pid: 20, ppid: 1, violation: v("sudo -n true")))
        c.exited(11)
        XCTAssertEqual(c.admit(pid: 14, ppid: 10, violation: v("sudo -n true")), 10)
    }

    // MARK: - 17: lint and test

    func testLintWarnsAboutRulesThatCanNeverMatch() throws {
        let path = try write(
            "l.yaml",
            """
            version: 1
            rules:
              - { id: a, match: { command: rm, cmdline: ['ls *'] }, action: kill }
              - { id: b, match: { command: node, hosts: [github.com] }, action: alert }
              - { id: c, match: { command: curl, args: ['https://github.com/*'] }, action: allow }
            tests:
              - { command: ls, expect: allow }
            """)
        let out = PolicyTool.lint(paths: [path])
        XCTAssertEqual(out.exitCode, 1)
        XCTAssertTrue(
            out.stdout.contains(
                "\(path):3:5: warning: rule 'a' can never match: cmdline 'ls *' starts with ls, but command is rm"),
            out.stdout)
        XCTAssertTrue(
            out.stdout.contains("\(path):4:5: warning: rule 'b' can never match: hosts/hosts_outside"), out.stdout)
        XCTAssertTrue(out.stdout.contains("\(path):5:5: warning: allow rule 'c' lets a command through"), out.stdout)
    }

    func testLintReportsEveryErrorOfAFile() throws {
        let path = try write(
            "m.yaml",
            """
            version: 1
            rules:
              - { id: a, match: { comand: rm }, action: kill }
              - { id: b, match: { command: rm }, action: explode }
              - { id: c, match: { command: curl, hosts: ['https://x.example/'] }, action: kill }
            tests:
              - { command: ls, expect: maybe }
            """)
        let out = PolicyTool.lint(paths: [path])
        XCTAssertEqual(out.exitCode, 2)
        for where_ in [":3:", ":4:", ":5:", ":7:"] {
            XCTAssertTrue(out.stderr.contains(path + where_), "\(where_) in \(out.stderr)")
        }
    }

    func testTestSaysWhenAPolicyHasNoTests() throws {
        let path = try write("n.yaml", "version: 1\nrules:\n  - { id: a, match: { command: rm }, action: kill }\n")
        let out = PolicyTool.test(paths: [path])
        XCTAssertEqual(out.exitCode, 1)
        XCTAssertTrue(out.stdout.hasPrefix("\(path): no tests:"), out.stdout)
    }
}
