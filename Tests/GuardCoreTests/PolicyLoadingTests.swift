import XCTest

@testable import GuardCore

/// Every validation error names file:line:column and says what to write instead (golden messages); a policy with
/// an error never half-loads.
final class PolicyLoadingTests: XCTestCase {
    private func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try Policy.load(yaml: yaml, file: "p.yaml")
            XCTFail("expected an error for:\n\(yaml)", file: file, line: line)
            return ""
        } catch {
            return error.description
        }
    }

    private let head = "version: 1\nname: t\n"
    private let okRule = "rules:\n  - id: a\n    match: { command: rm }\n    action: kill\n"

    func testAValidPolicyLoadsEveryKey() throws {
        let p = try Policy.load(
            yaml: """
                version: 1
                name: full
                description: every key
                mode: audit
                default: alert
                settings: { hold_timeout_ms: 1500, on_timeout: allow, unknown_command: stop, unparsable: kill }
                rules:
                  - id: a
                    description: d
                    match:
                      command: [rm, /usr/bin/rm, 'rm*']
                      args: ['*']
                      flags: [r|R|recursive, -f|--force]
                      cmdline: '*'
                      regex: '.'
                      paths: { under: ['${workspace}/x', '~/y', /z], outside: ['/'] }
                      parent: { command: node }
                      user: [root, 1000]
                    action: kill
                    severity: critical
                  - id: b
                    match: { pipeline: [ { command: curl }, { command: sh } ] }
                    action: stop
                tests:
                  - { command: 'ls', expect: alert }
                  - { command: [rm, -rf, /], expect: alert, rule: a, cwd: /tmp, workspace: /w, user: root, description: x }
                """, file: "full.yaml")
        XCTAssertEqual(p.name, "full")
        XCTAssertEqual(p.description, "every key")
        XCTAssertEqual(p.mode, .audit)
        XCTAssertEqual(p.defaultAction, .alert)
        XCTAssertEqual(p.holdTimeoutMs, 1500)
        XCTAssertEqual(p.onTimeout, .allow)
        XCTAssertEqual(p.unknownCommand, .stop)
        XCTAssertEqual(p.unparsable, .kill)
        XCTAssertEqual(p.rules.map(\.id), ["a", "b"])
        XCTAssertEqual(p.rules[0].severity, .critical)
        XCTAssertEqual(p.rules[0].location, SourceLocation(file: "full.yaml", line: 8, column: 5))
        XCTAssertEqual(p.tests.count, 2)
        XCTAssertEqual(p.tests[1].command, "rm -rf /")
        XCTAssertEqual(p.tests[1].location.line, 26)
    }

    func testGoldenErrorMessages() {
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: rm }\n    acton: kill\n"),
            "p.yaml:4:5: rule 'a' needs 'action'; add for example action: kill.\np.yaml:6:5: unknown key 'acton' in a rule; did you mean 'action'? a rule takes: id, description, match, action, severity."
        )
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: rm }\n    action: destroy\n"),
            "p.yaml:6:13: unknown action 'destroy'; write one of: allow, alert, stop, kill.")
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: rm }\n    action: kil\n"),
            "p.yaml:6:13: unknown action 'kil' (did you mean 'kill'?); write one of: allow, alert, stop, kill.")
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: rm }\n    action: kill\n    severity: urgent\n"),
            "p.yaml:7:15: unknown severity 'urgent'; write one of: info, low, medium, high, critical.")
        XCTAssertEqual(
            error("version: 2\n" + okRule),
            "p.yaml:1:10: unsupported policy version '2'; this claude-guard reads version 1: write 'version: 1'.")
        XCTAssertEqual(
            error(head + "rules: []\n"),
            "p.yaml:3:8: 'rules' is empty; add at least one rule, e.g. - { id: rm-rf, match: { command: rm, flags: [r|R|recursive, f|force] }, action: kill }."
        )
        XCTAssertEqual(
            error(head + okRule + "  - id: a\n    match: { command: ls }\n    action: alert\n"),
            "p.yaml:7:5: rule id 'a' is already used at line 4; give every rule its own id, e.g. 'a-2'.")
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { args: ['[oops'] }\n    action: kill\n"),
            "p.yaml:5:21: bad glob '[oops': '[' is never closed; write ']' to end the set, or '\\[' for a bracket.")
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { regex: '(unclosed' }\n    action: kill\n"),
            "p.yaml:5:21: bad regular expression '(unclosed': it does not compile as an ICU regular expression; escape special characters with '\\' (in YAML single quotes: '\\.'), or use cmdline: with a glob."
        )
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: {}\n    action: kill\n"),
            "p.yaml:5:12: rule 'a' has an empty 'match', which would match every command; give it a condition such as command: NAME (use 'default:' to act on every command)."
        )
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: { name: rm } }\n    action: kill\n"),
            "p.yaml:5:23: 'command' must be a text value or a list of them; write for example command: [rm, /usr/bin/rm, 'python*']."
        )
        XCTAssertEqual(
            error(head + "mode: block\n" + okRule),
            "p.yaml:3:7: unknown mode 'block'; write 'mode: enforce' (act on violations) or 'mode: audit' (only record them)."
        )
        XCTAssertEqual(
            error(head + "settings: { on_timeout: stop }\n" + okRule),
            "p.yaml:3:25: unknown action 'stop'; write one of: kill, allow.")
        XCTAssertEqual(
            error(head + "settings: { hold_timeout_ms: -5 }\n" + okRule),
            "p.yaml:3:30: bad value for 'hold_timeout_ms': write a whole number of milliseconds between 1 and 600000, e.g. hold_timeout_ms: 2000."
        )
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { flags: ['r|'] }\n    action: kill\n"),
            "p.yaml:5:22: empty flag alternative in 'r|'; write names like r|R|recursive.")
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { paths: { under: [build] } }\n    action: allow\n"),
            "p.yaml:5:31: bad value for 'paths': 'build' is relative; write an absolute path, '~/...' or '${workspace}/...'."
        )
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { pipeline: [ { command: curl } ] }\n    action: kill\n"),
            "p.yaml:5:24: bad value for 'pipeline': a pipeline needs two or more stages, e.g. [ { command: curl }, { command: sh } ]."
        )
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: rm, command: ls }\n    action: kill\n"),
            "p.yaml:5:14: key 'command' appears twice in the same mapping; keep one (for several values write a list: command: [a, b])."
        )
        XCTAssertEqual(
            error(head + okRule + "tests:\n  - { command: ls, expect: maybe }\n"),
            "p.yaml:8:28: unknown action 'maybe'; write one of: allow, alert, stop, kill.")
        XCTAssertEqual(
            error(head + okRule + "tests:\n  - { command: ls, expect: kill, rule: nope }\n"),
            "p.yaml:8:5: bad value for 'rule': no rule has id 'nope'; write the id of a rule above, or drop 'rule:'.")
        XCTAssertEqual(
            error("name: t\n" + okRule),
            "p.yaml:1:1: the policy needs 'version'; add for example 'version: 1' as the first line.")
        XCTAssertEqual(
            error(head + "rules:\n  - id: a\n    match: { command: rm }\n  action: kill\n"),
            "p.yaml:6:3: not valid YAML: did not find expected '-' indicator (while parsing a block collection). Fix the indentation or quoting at that place; quote values that contain ': ' or start with '*', '&', '!', '{' or '['."
        )
        XCTAssertEqual(
            error("- just\n- a list\n"),
            "p.yaml:1:1: 'policy' must be a mapping of keys; write for example 'version: 1' then 'rules:' on the next lines."
        )
    }

    func testUnknownTopLevelKeyAndSeveralErrorsAreAllReported() {
        let e = error(head + "rule:\n  - x\n" + "defualt: allow\n")
        XCTAssertEqual(
            e,
            """
            p.yaml:1:1: the policy needs 'rules'; add for example rules: [ { id: rm-rf, match: { command: rm, flags: [r, f] }, action: kill } ].
            p.yaml:3:1: unknown key 'rule' in the policy; did you mean 'rules'? the policy takes: version, name, description, mode, default, settings, rules, files, tests.
            p.yaml:5:1: unknown key 'defualt' in the policy; did you mean 'default'? the policy takes: version, name, description, mode, default, settings, rules, files, tests.
            """)
    }

    func testLoadFromMissingFile() {
        XCTAssertThrowsError(try Policy.load(path: "/nonexistent/p.yaml")) { e in
            XCTAssertEqual(
                "\(e)",
                "/nonexistent/p.yaml: cannot read the policy: no such file. Pass an existing YAML file with --policy, or omit it to use the embedded default."
            )
        }
    }
}
