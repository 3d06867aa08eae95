import Foundation
import XCTest

@testable import GuardCore

/// File rules (`files:`): loading and its errors with file:line:column, the judge, file tests, lint and
/// `check --file-access`.
final class FileRulesTests: XCTestCase {
    private let ws = "/home/agent/project"
    private let home = Paths.home
    private let head = "version: 1\nname: t\n"

    private func load(_ yaml: String) throws -> Policy { try Policy.load(yaml: yaml, file: "f.yaml") }

    private func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try Policy.load(yaml: yaml, file: "f.yaml")
            XCTFail("expected an error for:\n\(yaml)", file: file, line: line)
            return ""
        } catch {
            return error.description
        }
    }

    /// A policy of `files:` items only (given as the lines after `files:`).
    private func files(_ items: String) -> String { head + "files:\n" + items }

    // MARK: - Loading

    func testAFileRuleLoadsEveryKey() throws {
        let p = try load(
            """
            version: 1
            name: f
            rules:
              - id: a
                match: { command: rm }
                action: kill
            files:
              - id: keys
                description: ssh reads its keys
                paths: { under: ['~/.ssh/*'] }
                access: [read]
                process: { command: [ssh, /usr/bin/git, 'ssh-*'] }
                action: allow
              - id: deletes
                paths:
                  under: ['/srv/**', '${workspace}/../x']
                  outside: ['${workspace}', '/tmp/*', '${workspace}/build/*']
                access: [delete, rename, truncate, delete]
                action: deny
                severity: critical
            tests:
              - { command: ls, expect: allow }
              - { file: ~/.ssh/id_rsa, access: read, process: ssh, expect: allow, rule: keys, workspace: /w, description: d }
              - { file: '${workspace}/x', access: delete, expect: allow }
            """)
        XCTAssertEqual(p.fileRules.map(\.id), ["keys", "deletes"])
        let keys = p.fileRules[0]
        XCTAssertEqual(keys.description, "ssh reads its keys")
        XCTAssertEqual(keys.action, .allow)
        XCTAssertNil(keys.severity)
        XCTAssertEqual(keys.access, [.read])
        XCTAssertEqual(keys.processCommands, ["ssh", "/usr/bin/git", "ssh-*"])
        XCTAssertEqual(keys.location, SourceLocation(file: "f.yaml", line: 8, column: 5))
        XCTAssertEqual(keys.under(workspace: ws), [home + "/.ssh/*"])
        XCTAssertEqual(keys.outside(workspace: ws), [])
        let deletes = p.fileRules[1]
        XCTAssertEqual(deletes.access, [.delete, .rename, .truncate])
        XCTAssertEqual(deletes.severity, .critical)
        XCTAssertNil(deletes.processCommands)
        // `..` in a workspace pattern stays within the workspace, as command rules read it.
        XCTAssertEqual(deletes.under(workspace: ws), ["/srv/**", ws + "/x"])
        XCTAssertEqual(deletes.outside(workspace: ws), [ws, "/tmp/*", ws + "/build/*"])
        // Without a workspace its patterns are left out; glob characters of the workspace are escaped.
        XCTAssertEqual(deletes.outside(workspace: nil), ["/tmp/*"])
        XCTAssertEqual(deletes.outside(workspace: "/a*b/"), ["/a\\*b", "/tmp/*", "/a\\*b/build/*"])
        XCTAssertEqual(deletes.under(workspace: "/"), ["/srv/**", "/x"])
        XCTAssertEqual(p.tests.count, 1)
        XCTAssertEqual(p.fileTests.count, 2)
        let t = p.fileTests[0]
        XCTAssertEqual(t.file, "~/.ssh/id_rsa")
        XCTAssertEqual(t.access, .read)
        XCTAssertEqual(t.process, "ssh")
        XCTAssertEqual(t.expect, .allow)
        XCTAssertEqual(t.rule, "keys")
        XCTAssertEqual(t.workspace, "/w")
        XCTAssertEqual(t.location.line, 23)
        XCTAssertEqual(t.path(workspace: ws), home + "/.ssh/id_rsa")
        XCTAssertEqual(p.fileTests[1].path(workspace: ws + "/"), ws + "/x")
    }

    func testAPolicyMayHaveFileRulesOnly() throws {
        let p = try load(files("  - { id: a, paths: { under: [/etc] }, access: write, action: kill }\n"))
        XCTAssertEqual(p.rules.count, 0)
        XCTAssertEqual(p.fileRules[0].access, [.write])
        XCTAssertEqual(
            error(head),
            "f.yaml:1:1: the policy needs 'rules'; add for example rules: [ { id: rm-rf, match: { command: rm, flags: [r, f] }, action: kill } ]."
        )
    }

    func testGoldenFileRuleErrors() {
        // Unknown keys, with a hint.
        XCTAssertEqual(
            error(
                files(
                    "  - id: a\n    paths: { under: [/etc] }\n    acess: [read]\n    access: [read]\n    action: kill\n"
                )),
            "f.yaml:6:5: unknown key 'acess' in a file rule; did you mean 'access'? a file rule takes: id, description, paths, access, process, action, severity."
        )
        // Missing keys.
        XCTAssertEqual(
            error(files("  - id: a\n    action: kill\n")),
            """
            f.yaml:4:5: file rule 'a' needs 'access'; add for example access: [delete, rename, truncate] (or read, write, create, chmod).
            f.yaml:4:5: file rule 'a' needs 'paths'; add for example paths: { under: ['~/.ssh/*'] } or paths: { outside: ['${workspace}'] }.
            """)
        // Wrong types.
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { under: [/etc] }\n    access: { read: 1 }\n    action: kill\n")),
            "f.yaml:6:13: 'access' must be a text value or a list of them; write for example access: [delete, rename, truncate]."
        )
        XCTAssertEqual(
            error(files("  - id: a\n    paths: [/etc]\n    access: read\n    action: kill\n")),
            "f.yaml:5:12: 'paths' must be a mapping of keys; write for example paths: { under: ['~/.ssh/*'], outside: ['${workspace}'] }."
        )
        XCTAssertEqual(
            error(files("  - just a string\n")),
            "f.yaml:4:5: 'files item' must be a mapping of keys; write for example - id: no-deletes\n    paths: { outside: ['${workspace}'] }\n    access: [delete]\n    action: deny."
        )
        // Empty and unknown access.
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { under: [/etc] }\n    access: []\n    action: kill\n")),
            "f.yaml:6:13: bad value for 'access': the list is empty, so the rule could never match; write access: [delete, rename, truncate]."
        )
        XCTAssertEqual(
            error(
                files("  - id: a\n    paths: { under: [/etc] }\n    access: [read, delet, open]\n    action: kill\n")),
            """
            f.yaml:6:20: bad value for 'access': unknown access 'delet' (did you mean 'delete'?); write one of: read, write, create, delete, rename, truncate, chmod.
            f.yaml:6:27: bad value for 'access': unknown access 'open'; write one of: read, write, create, delete, rename, truncate, chmod.
            """)
        // Unknown action: a file rule cannot stop a process.
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { under: [/etc] }\n    access: [write]\n    action: stop\n")),
            "f.yaml:7:13: unknown action 'stop'; write one of: allow, alert, deny, kill.")
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { under: [/etc] }\n    access: [write]\n    action: dny\n")),
            "f.yaml:7:13: unknown action 'dny' (did you mean 'deny'?); write one of: allow, alert, deny, kill.")
        // Bad globs and relative paths.
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { under: ['~/.ssh/[a'] }\n    access: [read]\n    action: kill\n")),
            "f.yaml:5:22: bad glob '\(home)/.ssh/[a': '[' is never closed; write ']' to end the set, or '\\[' for a bracket."
        )
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { outside: [build/*] }\n    access: [delete]\n    action: deny\n")),
            "f.yaml:5:24: bad value for 'paths': 'build/*' is relative; write an absolute path, '~/...' or '${workspace}/...'."
        )
        XCTAssertEqual(
            error(files("  - id: a\n    paths: {}\n    access: [delete]\n    action: deny\n")),
            "f.yaml:5:12: bad value for 'paths': write under: [...] and/or outside: [...], e.g. paths: { under: ['~/.ssh/*'] }."
        )
        XCTAssertEqual(
            error(files("  - id: a\n    paths: { inside: [/etc] }\n    access: [delete]\n    action: deny\n")),
            "f.yaml:5:14: unknown key 'inside' in paths; paths takes: under, outside.")
        // `process` takes only `command`.
        XCTAssertEqual(
            error(
                files(
                    "  - id: a\n    paths: { under: [/etc] }\n    access: [read]\n    process: { command: cat, args: [x] }\n    action: kill\n"
                )),
            "f.yaml:7:30: unknown key 'args' in a file rule's process; a file rule's process takes: command.")
        XCTAssertEqual(
            error(
                files(
                    "  - id: a\n    paths: { under: [/etc] }\n    access: [read]\n    process: {}\n    action: kill\n")),
            "f.yaml:7:14: a file rule's process needs 'command'; add for example process: { command: [ssh, git] }.")
        XCTAssertEqual(
            error(
                files(
                    "  - id: a\n    paths: { under: [/etc] }\n    access: [read]\n    process: ssh\n    action: kill\n")
            ),
            "f.yaml:7:14: 'process' must be a mapping of keys; write for example process: { command: [ssh, git] }.")
        XCTAssertEqual(
            error(
                files(
                    "  - id: a\n    paths: { under: [/etc] }\n    access: [read]\n    process: { command: bin/x }\n    action: kill\n"
                )
            ),
            "f.yaml:7:25: bad value for 'command': 'bin/x' is a relative path; write a basename (rm) or an absolute path (/usr/bin/rm)."
        )
        // Empty list, bad id.
        XCTAssertEqual(
            error(head + "files: []\n"),
            "f.yaml:3:8: bad value for 'files': the list is empty; add a file rule such as - { id: no-deletes, paths: { outside: ['${workspace}'] }, access: [delete], action: deny }, or drop 'files:'."
        )
        XCTAssertEqual(
            error(files("  - { id: 'a b', paths: { under: [/etc] }, access: read, action: kill }\n")),
            "f.yaml:4:11: bad value for 'id': write a non-empty id without spaces, e.g. read-secrets.")
    }

    func testIdsAreOneNamespaceForRulesAndFileRules() {
        XCTAssertEqual(
            error(
                """
                version: 1
                files:
                  - { id: a, paths: { under: [/etc] }, access: read, action: kill }
                rules:
                  - { id: a, match: { command: rm }, action: kill }
                  - { id: b, match: { command: rm }, action: kill }
                  - { id: b, match: { command: rm }, action: kill }
                """),
            """
            f.yaml:5:5: rule id 'a' is already used at line 3; give every rule its own id, e.g. 'a-2'.
            f.yaml:7:5: rule id 'b' is already used at line 6; give every rule its own id, e.g. 'b-2'.
            """)
        XCTAssertEqual(
            error(
                files(
                    "  - { id: a, paths: { under: [/etc] }, access: read, action: kill }\n  - { id: a, paths: { under: [/x] }, access: read, action: kill }\n"
                )),
            "f.yaml:5:5: rule id 'a' is already used at line 4; give every rule its own id, e.g. 'a-2'.")
    }

    func testGoldenFileTestErrors() {
        let rule = files("  - { id: a, paths: { under: [/etc] }, access: read, action: kill }\ntests:\n")
        XCTAssertEqual(
            error(rule + "  - { file: etc/hosts, access: read, expect: kill }\n"),
            "f.yaml:6:13: bad value for 'file': 'etc/hosts' is relative; write an absolute path, '~/...' or '${workspace}/...'."
        )
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, access: reed, expect: kill }\n"),
            "f.yaml:6:33: bad value for 'access': unknown access 'reed' (did you mean 'read'?); write one of: read, write, create, delete, rename, truncate, chmod."
        )
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, access: read, expect: stop }\n"),
            "f.yaml:6:47: unknown action 'stop'; write one of: allow, alert, deny, kill.")
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, expect: kill }\n"),
            "f.yaml:6:5: a file test needs 'access'; add for example access: read.")
        XCTAssertEqual(
            error(rule + "  - { access: read, expect: kill }\n"),
            "f.yaml:6:5: a file test needs 'file'; add for example file: ~/.ssh/id_rsa.")
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, command: cat /etc/hosts, access: read, expect: kill }\n"),
            "f.yaml:6:34: bad value for 'command': a test checks either a command ('command:') or a file access ('file:'), not both; split it into two tests."
        )
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, access: read, expect: kill, cwd: /tmp }\n"),
            "f.yaml:6:53: unknown key 'cwd' in a file test; a file test takes: file, access, process, expect, workspace, rule, description, command."
        )
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, access: read, expect: kill, rule: b }\n"),
            "f.yaml:6:5: bad value for 'rule': no file rule has id 'b'; write the id of a rule under 'files:', or drop 'rule:'."
        )
        XCTAssertEqual(
            error(rule + "  - { file: /etc/hosts, access: read, expect: kill, workspace: w }\n"),
            "f.yaml:6:64: bad value for 'workspace': write an absolute directory, e.g. /home/me/project.")
        // A command test with a file test's key says which keys a command test takes.
        XCTAssertEqual(
            error(rule + "  - { command: cat /etc/hosts, process: cat, expect: kill }\n"),
            "f.yaml:6:32: unknown key 'process' in a test; a test takes: command, expect, rule, cwd, workspace, user, description."
        )
    }

    func testYAMLAnchorsShareOneList() throws {
        // One list written once (the anchor comes first in the text), read by a command rule and a file rule.
        let p = try load(
            """
            version: 1
            rules:
              - id: rm-scratch
                match:
                  command: rm
                  paths:
                    under: &scratch
                      - '${workspace}'
                      - '/tmp/*'   # a comment inside the list
                action: allow
              - id: find-delete
                match: { command: find, args: [-delete], paths: { outside: *scratch } }
                action: kill
            files:
              - { id: deletes, paths: { outside: *scratch }, access: [delete], action: deny }
            """)
        XCTAssertEqual(p.fileRules[0].outside(workspace: ws), [ws, "/tmp/*"])
        XCTAssertEqual(judge(p, "/tmp/x", .delete), nil)
        XCTAssertEqual(judge(p, "/var/x", .delete), "deletes")
        XCTAssertEqual(p.evaluate(commandLine: "find /tmp/x -delete", workspace: ws).action, .allow)
        XCTAssertEqual(p.evaluate(commandLine: "find /var/x -delete", workspace: ws).rule, "find-delete")
        XCTAssertEqual(p.evaluate(commandLine: "rm /tmp/x", workspace: ws).rule, "rm-scratch")
        // An alias before its anchor is an error with its place.
        XCTAssertEqual(
            error(files("  - { id: d, paths: { outside: *later }, access: [delete], action: deny }\n")),
            "f.yaml:4:32: not valid YAML: found undefined alias. Fix the indentation or quoting at that place; quote values that contain ': ' or start with '*', '&', '!', '{' or '['."
        )
    }

    func testShippedPoliciesReadOneScratchListAndTestEveryFileRule() throws {
        let common = [
            "${workspace}", "/tmp/*", "/var/tmp/*", "/dev/shm/*", "/run/user/*", "~/.cache/*", "~/.npm/*", "~/.local/*",
            "~/.claude/*", "~/.cargo/*", "~/.rustup/*", "~/.gradle/*", "~/.m2/*", "~/.pyenv/*", "~/.nvm/*",
            "~/go/pkg/*", "/proc/*",
        ]
        let claude = ["~/.claude.json", "~/.claude.json.backup"]
        for name in PolicyShippedTests.shipped {
            let p = try Policy.load(path: PolicyShippedTests.policyPath(name))
            // strict and ci deny writes outside the list too, so the terminal and /dev/null are in it.
            let writes = p.fileRules.contains { $0.id == "writes-outside-scratch" }
            let scratch = common + (writes ? ["/dev/*"] : []) + claude
            // The anchor resolves: every rule that reads the list reads all of it.
            let deletes = try XCTUnwrap(p.fileRules.first { $0.id == "deletes-outside-scratch" }, name)
            XCTAssertEqual(deletes.outsidePatterns.map(\.written), scratch, name)
            XCTAssertEqual(deletes.access, [.delete, .rename, .truncate], name)
            if let writes = p.fileRules.first(where: { $0.id == "writes-outside-scratch" }) {
                XCTAssertEqual(writes.outsidePatterns.map(\.written), scratch, name)
            }
            for r in p.rules where r.id == "rm-scratch" || r.id == "find-delete-outside-workspace" {
                XCTAssertEqual((r.match.under + r.match.outside).map(\.written), scratch, "\(name): \(r.id)")
            }
            // Every file rule decides at least one of the policy's file tests.
            var decided = Set<String>()
            for t in p.fileTests {
                let w = t.workspace ?? PolicyTool.testWorkspace
                let process = t.process.map { ProcessIdentity(resolving: $0, cwd: w) }
                if let r = p.judgeFile(path: t.path(workspace: w), access: t.access, process: process, workspace: w) {
                    decided.insert(r.id)
                }
            }
            XCTAssertEqual(Set(p.fileRules.map(\.id)).subtracting(decided), [], "\(name): file rules no test reaches")
        }
        // The find rule and the file rule agree on the scratch places in the default policy.
        let d = Policy.embeddedDefault
        for place in ["/var/tmp/stuff", "/tmp/build", home + "/.cache/pip", ws + "/src"] {
            XCTAssertEqual(d.evaluate(commandLine: "find \(place) -delete", workspace: ws).action, .allow, place)
            XCTAssertNil(d.judgeFile(path: place + "/x", access: .delete, processPath: "find", workspace: ws), place)
        }
        XCTAssertEqual(d.evaluate(commandLine: "find /srv/data -delete", workspace: ws).action, .kill)
        XCTAssertEqual(
            d.judgeFile(path: "/srv/data/x", access: .delete, processPath: "find", workspace: ws)?.action, .deny)
    }

    // MARK: - Judging

    private func policy(_ items: String) throws -> Policy { try load(files(items)) }

    private func judge(
        _ p: Policy, _ path: String, _ access: FileAccess, by process: String? = nil, workspace: String? = nil
    ) -> String? {
        p.judgeFile(path: path, access: access, processPath: process, workspace: workspace ?? ws)?.id
    }

    func testUnderOutsideAndBoth() throws {
        let p = try policy(
            """
              - { id: secrets, paths: { under: ['~/.ssh/*', /etc/shadow] }, access: [read], action: kill }
              - { id: env, paths: { under: ['/**/.env', '/**/.env.*'], outside: ['${workspace}'] }, access: [read], action: kill }
              - { id: deletes, paths: { outside: ['${workspace}', '/tmp/*'] }, access: [delete, rename], action: deny }
            """)
        // under: the pattern covers the path or a directory above it, not the directory the glob names.
        XCTAssertEqual(judge(p, home + "/.ssh/id_rsa", .read), "secrets")
        XCTAssertEqual(judge(p, home + "/.ssh/keys/deep/id", .read), "secrets")
        XCTAssertNil(judge(p, home + "/.ssh", .read))
        XCTAssertNil(judge(p, home + "/.sshx/id", .read))
        XCTAssertEqual(judge(p, "/etc/shadow", .read), "secrets")
        XCTAssertNil(judge(p, "/etc/shadow-", .read))
        XCTAssertNil(judge(p, "/etc/shadow", .write))
        // Paths are judged normalised.
        XCTAssertEqual(judge(p, home + "/.config/../.ssh//./id_rsa", .read), "secrets")
        // both: under some and outside all.
        XCTAssertEqual(judge(p, "/home/other/app/.env", .read), "env")
        XCTAssertEqual(judge(p, "/.env", .read), "env")
        XCTAssertEqual(judge(p, "/srv/x/.env.production", .read), "env")
        XCTAssertNil(judge(p, ws + "/.env", .read))
        XCTAssertNil(judge(p, ws + "/sub/.env.local", .read))
        XCTAssertNil(judge(p, "/srv/x/.envrc", .read))
        XCTAssertNil(judge(p, "/srv/x/dotenv", .read))
        // outside only: `/tmp/*` is not /tmp itself; `${workspace}` is the workspace and all below it.
        XCTAssertEqual(judge(p, "/etc/hosts", .delete), "deletes")
        XCTAssertEqual(judge(p, "/tmp", .rename), "deletes")
        XCTAssertEqual(judge(p, "/home/agent/project-2/x", .delete), "deletes")
        XCTAssertNil(judge(p, "/tmp/x", .delete))
        XCTAssertNil(judge(p, "/tmp/x/y/z", .delete))
        XCTAssertNil(judge(p, ws, .delete))
        XCTAssertNil(judge(p, ws + "/src/a.c", .rename))
        XCTAssertNil(judge(p, "/etc/hosts", .truncate))
        // Another workspace moves the line; without one, `${workspace}` covers nothing.
        XCTAssertEqual(judge(p, ws + "/src/a.c", .delete, workspace: "/srv"), "deletes")
        XCTAssertNil(judge(p, "/srv/a.c", .delete, workspace: "/srv/"))
        XCTAssertEqual(p.judgeFile(path: ws + "/a", access: .delete, processPath: nil, workspace: nil)?.id, "deletes")
        XCTAssertEqual(p.judgeFile(path: ws + "/.env", access: .read, processPath: nil, workspace: nil)?.id, "env")
    }

    func testProcessExceptionsByBasenameByPathAndFirstMatchWins() throws {
        let p = try policy(
            """
              - id: ssh-keys
                paths: { under: ['~/.ssh/*'] }
                access: [read]
                process: { command: [ssh, /usr/lib/git-core/git-remote-https, 'gpg*'] }
                action: allow
              - { id: secrets, paths: { under: ['~/.ssh/id_*'] }, access: [read, write], action: kill }
              - { id: later, paths: { under: ['~/.ssh/*'] }, access: [read], action: alert }
            """)
        let key = home + "/.ssh/id_ed25519"
        // By basename, whatever directory the program is in.
        XCTAssertEqual(judge(p, key, .read, by: "/usr/bin/ssh"), "ssh-keys")
        XCTAssertEqual(judge(p, key, .read, by: "/opt/bin/ssh"), "ssh-keys")
        XCTAssertEqual(judge(p, key, .read, by: "ssh"), "ssh-keys")
        XCTAssertEqual(judge(p, key, .read, by: "/usr/bin/gpg-agent"), "ssh-keys")
        // A name with '/' compares with the full path.
        XCTAssertEqual(judge(p, key, .read, by: "/usr/lib/git-core/git-remote-https"), "ssh-keys")
        XCTAssertEqual(judge(p, key, .read, by: "/tmp/git-remote-https"), "secrets")
        // Other programs and unknown processes fall to the next rules; the first that holds decides.
        XCTAssertEqual(judge(p, key, .read, by: "/usr/bin/python3"), "secrets")
        XCTAssertEqual(judge(p, key, .read, by: "/usr/bin/sshd"), "secrets")
        XCTAssertEqual(judge(p, key, .read), "secrets")
        XCTAssertEqual(
            p.judgeFile(path: key, access: .read, processPath: nil, workspace: ws)?.action, .kill)
        XCTAssertEqual(judge(p, key, .write, by: "/usr/bin/ssh"), "secrets")
        XCTAssertEqual(judge(p, home + "/.ssh/config", .read, by: "python3"), "later")
        XCTAssertEqual(judge(p, home + "/.ssh/config", .read, by: "ssh"), "ssh-keys")
        XCTAssertNil(judge(p, home + "/.ssh/config", .write, by: "python3"))
    }

    func testCheckResolvesTheProcessLikeACommand() throws {
        let p = try policy(
            "  - { id: sh-reads, paths: { under: [/etc/*] }, access: read, process: { command: sh }, action: alert }\n")
        // `sh` on PATH (a symlink to dash on Debian) is still `sh`; the path as written counts too.
        let out = PolicyTool.checkFile(policy: p, access: .read, path: "/etc/hosts", process: "sh", workspace: ws)
        XCTAssertEqual(out.stdout, "alert sh-reads (low): read /etc/hosts by sh\n")
        XCTAssertEqual(out.exitCode, 1)
        XCTAssertEqual(
            PolicyTool.checkFile(policy: p, access: .read, path: "/etc/hosts", process: "/bin/sh", workspace: ws)
                .exitCode, 1)
    }

    // MARK: - check --file-access

    func testCheckFileAccessExitCodesAndLines() throws {
        let p = try policy(
            """
              - { id: ssh-keys, paths: { under: ['~/.ssh/*'] }, access: read, process: { command: ssh }, action: allow }
              - { id: secrets, description: credential files, paths: { under: ['~/.ssh/id_*'] }, access: read, action: kill, severity: critical }
              - { id: deletes, paths: { outside: ['${workspace}'] }, access: [delete], action: deny }
            """)
        let key = home + "/.ssh/id_rsa"
        let killed = PolicyTool.checkFile(policy: p, access: .read, path: key, process: "python3", workspace: ws)
        XCTAssertEqual(killed.stdout, "kill secrets (critical): read \(key) by python3\n")
        XCTAssertEqual(killed.exitCode, 1)
        let tilde = PolicyTool.checkFile(policy: p, access: .read, path: "~/.ssh/id_rsa", process: nil, workspace: ws)
        XCTAssertEqual(tilde.stdout, "kill secrets (critical): read \(key)\n")
        let allowedByRule = PolicyTool.checkFile(policy: p, access: .read, path: key, process: "ssh", workspace: ws)
        XCTAssertEqual(allowedByRule.stdout, "allow ssh-keys: read \(key) by ssh\n")
        XCTAssertEqual(allowedByRule.exitCode, 0)
        let denied = PolicyTool.checkFile(policy: p, access: .delete, path: "/etc/hosts", process: nil, workspace: ws)
        XCTAssertEqual(denied.stdout, "deny deletes (medium): delete /etc/hosts\n")
        XCTAssertEqual(denied.exitCode, 1)
        // A relative path lies in the directory `check` runs in (by default the workspace).
        let inside = PolicyTool.checkFile(policy: p, access: .delete, path: "src/../a.c", process: nil, workspace: ws)
        XCTAssertEqual(inside.stdout, "allow: delete \(ws)/a.c\n")
        XCTAssertEqual(inside.exitCode, 0)
        let elsewhere = PolicyTool.checkFile(
            policy: p, access: .delete, path: "a.c", process: nil, workspace: ws, cwd: "/srv")
        XCTAssertEqual(elsewhere.stdout, "deny deletes (medium): delete /srv/a.c\n")
        let json = PolicyTool.checkFile(
            policy: p, access: .read, path: key, process: "python3", workspace: ws, format: .json)
        XCTAssertEqual(
            json.stdout,
            #"{"line":1,"file":"\#(key)","access":"read","process":"python3","action":"kill","rule":"secrets","severity":"critical","description":"credential files"}"#
                + "\n")
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8)))
        let plain = PolicyTool.checkFile(
            policy: p, access: .write, path: "/etc/hosts", process: nil, workspace: ws, format: .json)
        XCTAssertEqual(plain.stdout, #"{"line":1,"file":"/etc/hosts","access":"write","action":"allow"}"# + "\n")
        // No file rules: everything is allowed.
        let none = PolicyTool.checkFile(
            policy: try load(head + "rules: [ { id: a, match: { command: rm }, action: kill } ]\n"), access: .delete,
            path: "/etc/hosts", process: nil, workspace: ws)
        XCTAssertEqual(none, PolicyTool.Output(stdout: "allow: delete /etc/hosts\n", exitCode: 0))
    }

    // MARK: - test and lint

    private var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cg-files-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = tmp.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testTestRunsFileTestsBesideCommandTestsAndNamesFailuresInFileOrder() throws {
        let path = try write(
            "p.yaml",
            """
            version: 1
            rules:
              - { id: rm-rf, match: { command: rm, flags: [r, f] }, action: kill }
            files:
              - { id: keys, paths: { under: ['~/.ssh/*'] }, access: read, process: { command: ssh }, action: allow }
              - { id: secrets, paths: { under: ['~/.ssh/*'] }, access: read, action: kill }
              - { id: deletes, paths: { outside: ['${workspace}'] }, access: delete, action: deny }
            tests:
              - { file: ~/.ssh/id_rsa, access: read, process: python3, expect: kill, rule: secrets }
              - { file: ~/.ssh/id_rsa, access: read, process: ssh, expect: kill }
              - { command: rm -r /, expect: kill }
              - { file: ~/.ssh/id_rsa, access: read, expect: kill, rule: keys }
              - { file: '${workspace}/x', access: delete, expect: allow }
              - { file: /srv/x, access: delete, expect: deny }
              - { file: /srv/x, access: delete, expect: allow, workspace: /srv }
              - { file: /srv/x, access: read, expect: deny, description: nothing reads-protects /srv }
              - { command: rm -rf /, expect: kill }
            """)
        let out = PolicyTool.test(paths: [path])
        XCTAssertEqual(
            out.stdout,
            """
            FAIL \(path):10:5: read ~/.ssh/id_rsa by ssh: expected kill, got allow (rule 'keys')
            FAIL \(path):11:5: rm -r /: expected kill, got allow (no rule matched)
            FAIL \(path):12:5: read ~/.ssh/id_rsa: expected rule 'keys', got rule 'secrets'
            FAIL \(path):16:5: read /srv/x: expected deny, got allow (no file rule matched)
            \(path): 5 passed, 4 failed

            """)
        XCTAssertEqual(out.exitCode, 1)
    }

    func testLintCountsFileRulesAndWarnsAboutDeadOnes() throws {
        let path = try write(
            "l.yaml",
            """
            version: 1
            files:
              - { id: ssh, paths: { under: ['~/.ssh'] }, access: [read, write], action: kill }
              - { id: keys, paths: { under: ['~/.ssh/id_*'] }, access: read, action: alert }
              - { id: keys-by-ssh, paths: { under: ['~/.ssh/id_*'] }, access: read, process: { command: ssh }, action: allow }
              - { id: tmp, paths: { under: ['/tmp/*'], outside: ['/tmp'] }, access: delete, action: deny }
              - { id: all, paths: { outside: ['/'] }, access: delete, action: deny }
              - { id: ws, paths: { under: ['${workspace}/build/*', '${workspace}/dist'], outside: ['${workspace}'] }, access: delete, action: deny }
              - { id: fine, paths: { under: ['/srv/*'], outside: ['/srv/keep'] }, access: delete, action: deny }
              - { id: fine-too, paths: { under: ['${workspace}/*'] }, access: write, process: { command: [make] }, action: alert }
            tests:
              - { file: /srv/x, access: delete, expect: deny }
            """)
        let out = PolicyTool.lint(paths: [path])
        XCTAssertEqual(
            out.stdout,
            """
            \(path):4:5: warning: file rule 'keys' can never decide: file rule 'ssh' (line 3) comes first and matches every access it matches; move 'keys' above it or narrow 'ssh'
            \(path):5:5: warning: file rule 'keys-by-ssh' can never decide: file rule 'ssh' (line 3) comes first and matches every access it matches; move 'keys-by-ssh' above it or narrow 'ssh'
            \(path):6:5: warning: file rule 'tmp' can never match: under '/tmp/*' lies within outside '/tmp'
            \(path):7:5: warning: file rule 'all' can never match: outside '/' covers every path
            \(path):8:5: warning: file rule 'ws' can never match: every 'under' pattern lies within an 'outside' one (under '${workspace}/build/*' lies within outside '${workspace}')
            \(path): 5 warnings

            """)
        XCTAssertEqual(out.exitCode, 1)
        let ok = try write(
            "ok.yaml",
            "version: 1\nrules: [ { id: a, match: { command: rm }, action: kill } ]\nfiles: [ { id: b, paths: { under: [/etc] }, access: write, action: kill } ]\ntests: [ { file: /etc/x, access: write, expect: kill }, { command: rm x, expect: kill } ]\n"
        )
        XCTAssertEqual(PolicyTool.lint(paths: [ok]).stdout, "\(ok): ok (1 rules, 1 file rules, 2 tests)\n")
    }
}
