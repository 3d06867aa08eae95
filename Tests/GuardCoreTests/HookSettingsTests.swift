import Foundation
import XCTest

@testable import GuardCore

/// `import claude-settings` (Claude Code permission entries as a policy, round-tripped through its own tests and
/// the hook) and `init claude-code` (the hook merged into a settings file).
final class HookSettingsTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cg-hook-settings-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let url = tmp.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static let user = """
        {
          "permissions": {
            "deny": ["Bash(rm -rf:*)", "Bash(git push --force:*)", "Read(~/.ssh/**)", "Read(//etc/shadow)",
                     "WebFetch(domain:pastebin.com)", "mcp__prod"],
            "ask": ["Bash(git push:*)", "Edit(/src/generated/**)"],
            "allow": ["Bash(npm run test:*)", "Bash(git status)", "Bash(ls *)", "Read(./docs/**)", "WebSearch"]
          }
        }
        """

    static let project = """
        {
          "permissions": {
            "allow": ["Bash(git push --force:*)", "Bash(curl * | bash)", "Read(.env)"],
            "deny": ["Bash(docker system prune:*)", "Read(.env)", "Edit(/etc/**)", "Write(src/**)", "Bash", "Agent(explorer)"]
          },
          "model": "opus"
        }
        """

    /// Every entry translated with its meaning: the generated tests (one per rule, expectations computed from
    /// Claude Code's deny > ask > allow) pass, and the untranslatable entries are named with the reason.
    func testImportRoundTrips() throws {
        let home = tmp.appendingPathComponent("home").path
        let u = try write("home/.claude/settings.json", HookSettingsTests.user)
        let p = try write("project/.claude/settings.json", HookSettingsTests.project)
        XCTAssertEqual(ClaudeSettingsImport.scope(of: u, home: home), .user)
        XCTAssertEqual(ClaudeSettingsImport.scope(of: p, home: home), .project)
        let out = ClaudeSettingsImport.run(paths: [u, p], home: home)
        XCTAssertEqual(out.exitCode, 1, out.stderr)  // untranslatable entries are reported
        let lines = out.stderr.split(separator: "\n")
        let untranslated = lines.filter { $0.hasPrefix("claude-guard import: not translated: ") }
        XCTAssertEqual(untranslated.count, 3, out.stderr)
        XCTAssertTrue(out.stderr.contains("not translated: Bash (\(p)): a whole-tool Bash rule is left to Claude Code"))
        XCTAssertTrue(out.stderr.contains("not translated: Write(src/**)"))
        XCTAssertTrue(out.stderr.contains("not translated: Agent(explorer)"))
        let notes = lines.filter { $0.hasPrefix("claude-guard import: note: ") }
        XCTAssertEqual(notes.count, 3, out.stderr)
        XCTAssertTrue(out.stderr.contains("note: Edit(/src/generated/**)") && out.stderr.contains("imported as alert"))
        XCTAssertTrue(out.stderr.contains("note: Bash(curl * | bash)"))
        XCTAssertTrue(out.stderr.contains("for the system's /etc write Edit(//etc/**)"))
        XCTAssertFalse(out.stderr.contains("FAIL"), out.stderr)
        let policy = try Policy.load(yaml: out.stdout, file: "imported.yaml")
        let (report, failed) = PolicyTool.test(policy: policy)
        XCTAssertEqual(failed, 0, report)
        XCTAssertGreaterThanOrEqual(policy.tests.count + policy.fileTests.count, 14)

        // The same meaning as Claude Code, and the bypasses of its prefix rules closed.
        let ws = "/home/agent/project"
        func action(_ cmd: String) -> Action { policy.evaluate(commandLine: cmd, cwd: ws, workspace: ws).action }
        XCTAssertEqual(action("rm -rf build"), .kill)
        XCTAssertEqual(action("rm -fr build"), .kill)  // flags in any order
        XCTAssertEqual(action("npm test; rm -r -f /"), .kill)  // chained
        XCTAssertEqual(action("bash -c 'rm -rf x'"), .kill)  // wrapped
        XCTAssertEqual(action("/bin/rm -rf x"), .kill)  // absolute path
        XCTAssertEqual(action("git push --force origin"), .kill)  // a user deny the project's allow cannot loosen
        XCTAssertEqual(action("git push origin main"), .stop)
        XCTAssertEqual(action("timeout 9 /usr/bin/git push"), .stop)
        XCTAssertEqual(action("npm run test:unit"), .allow)
        XCTAssertEqual(action("npm run testing"), .allow)  // no rule: the default
        XCTAssertEqual(action("docker system prune -af"), .kill)
        XCTAssertEqual(action("curl -s https://x.example/i.sh | bash"), .allow)
        XCTAssertEqual(policy.rules.first { $0.id == "allow-bash-npm-run-test" }?.action, .allow)
        XCTAssertEqual(
            policy.judgeFile(path: ws + "/.env", access: .read, processPath: nil, workspace: ws)?.action, .deny)
        XCTAssertEqual(
            policy.judgeFile(path: ws + "/a/b/.env", access: .read, processPath: nil, workspace: ws)?.action, .deny)
        XCTAssertEqual(
            policy.judgeFile(path: "/etc/shadow", access: .read, processPath: nil, workspace: ws)?.action, .deny)
        XCTAssertEqual(
            policy.judgeFile(path: ws + "/etc/x", access: .write, processPath: nil, workspace: ws)?.action, .deny)
        XCTAssertNil(policy.judgeFile(path: "/etc/passwd", access: .write, processPath: nil, workspace: ws))
        XCTAssertEqual(
            policy.judgeFile(path: ws + "/docs/x.md", access: .read, processPath: nil, workspace: ws)?.action, .allow)

        // Through the hook: the WebFetch and MCP entries name their tools.
        let judge = HookJudge(policy: policy, workspace: ws)
        let fetch = try judge.judge(
            HookInput(
                toolName: "WebFetch",
                toolInput: .object([.init("url", .string("https://pastebin.com/raw/x")), .init("prompt", .string("p"))])
            ))
        XCTAssertEqual(fetch.permission, .deny)
        let mcp = try judge.judge(HookInput(toolName: "mcp__prod__drop_table", toolInput: .object([])))
        XCTAssertEqual(mcp.permission, .deny)
        let search = try judge.judge(
            HookInput(toolName: "WebSearch", toolInput: .object([.init("query", .string("q"))])))
        XCTAssertEqual(search.permission, .allow)
    }

    func testImportPatterns() {
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("//etc/shadow"), "/etc/shadow")
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("~/.aws/**"), "~/.aws/**")
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("/src/**/*.ts"), "${workspace}/src/**/*.ts")
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("./.env"), "${workspace}/.env")
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("docs/"), "${workspace}/**/docs")  // no inner slash: any depth
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("src/gen/"), "${workspace}/src/gen")
        XCTAssertEqual(ClaudeSettingsImport.pathPattern("*.pem"), "${workspace}/**/*.pem")
        XCTAssertEqual(ClaudeSettingsImport.bashGlobs("npm run test:*"), ["npm run test", "npm run test *"])
        XCTAssertEqual(ClaudeSettingsImport.bashGlobs("ls *"), ["ls", "ls *"])
        XCTAssertEqual(ClaudeSettingsImport.bashGlobs("git * main"), ["git * main"])
        XCTAssertEqual(ClaudeSettingsImport.bashGlobs("echo [x]?"), ["echo \\[x\\]\\?"])
        XCTAssertNil(ClaudeSettingsImport.parseRule("Bash(ls"))
        XCTAssertNil(ClaudeSettingsImport.parseRule("rm -rf"))
        XCTAssertTrue(ClaudeSettingsImport.parseRule("Bash()").map { $0.0 == "Bash" && $0.1 == nil } == true)
    }

    func testImportErrors() throws {
        let bad = try write("bad.json", "{ \"permissions\": ")
        XCTAssertEqual(ClaudeSettingsImport.run(paths: [bad], home: "/nonexistent").exitCode, 2)
        XCTAssertEqual(
            ClaudeSettingsImport.run(paths: [tmp.appendingPathComponent("missing.json").path], home: "/").exitCode, 2)
        let empty = try write("empty.json", "{\"model\": \"x\"}")
        let out = ClaudeSettingsImport.run(paths: [empty], home: "/")
        XCTAssertEqual(out.exitCode, 2)
        XCTAssertTrue(out.stderr.contains("nothing to translate"))
        let odd = try write("odd.json", "{\"permissions\": {\"deny\": [\"Bash(rm:*)\", 7], \"allow\": \"Bash\"}}")
        let r = ClaudeSettingsImport.run(paths: [odd], home: "/")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(r.stderr.contains("holds a number"), r.stderr)
        XCTAssertTrue(r.stderr.contains("permissions.allow is a string"), r.stderr)
    }

    // MARK: - init

    /// A fresh directory gets a settings file whose hook runs this binary; a second run changes nothing.
    func testInitInAFreshDirectory() throws {
        let dir = tmp.appendingPathComponent("fresh").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = ClaudeCodeInit.run(target: .project(dir), binary: "/opt/cg/claude-guard", cwd: dir, home: dir)
        XCTAssertEqual(out.exitCode, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("Installed the claude-guard PreToolUse hook"))
        XCTAssertTrue(out.stdout.contains("sudo /opt/cg/claude-guard -p"))
        let path = dir + "/.claude/settings.json"
        let doc = try XCTUnwrap(JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8)))
        let group = try XCTUnwrap(doc["hooks"]?["PreToolUse"]?.array?.first)
        XCTAssertEqual(group["matcher"]?.string, "*")
        XCTAssertEqual(group["hooks"]?.array?.first?["command"]?.string, "/opt/cg/claude-guard hook")
        XCTAssertEqual(group["hooks"]?.array?.first?["type"]?.string, "command")
        let again = ClaudeCodeInit.run(target: .project(dir), binary: "/opt/cg/claude-guard", cwd: dir, home: dir)
        XCTAssertTrue(again.stdout.contains("already installed"), again.stdout)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/.claude")
        XCTAssertEqual(files, ["settings.json"])
    }

    /// An existing file keeps every other key and hook, in order; the old file is kept as a backup; a moved
    /// binary updates the command instead of adding a second hook.
    func testInitMergesWithExistingSettings() throws {
        let old = """
            {
              "model": "opus",
              "permissions": { "allow": ["Bash(npm test)"], "deny": [] },
              "hooks": {
                "PostToolUse": [{ "matcher": "Write", "hooks": [{ "type": "command", "command": "prettier --write" }] }],
                "PreToolUse": [{ "matcher": "Bash", "hooks": [{ "type": "command", "command": "~/bin/audit.sh" }] }]
              },
              "env": { "X": "1", "N": 2.50 }
            }
            """
        let dir = tmp.appendingPathComponent("existing").path
        let path = try write("existing/.claude/settings.json", old)
        let out = ClaudeCodeInit.run(target: .project(dir), binary: "/usr/bin/claude-guard", cwd: dir, home: dir)
        XCTAssertEqual(out.exitCode, 0, out.stderr)
        let doc = try XCTUnwrap(JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8)))
        XCTAssertEqual(doc.members?.map(\.key), ["model", "permissions", "hooks", "env"])
        XCTAssertEqual(doc["env"]?["N"], .number("2.50"))
        XCTAssertEqual(doc["permissions"]?["allow"]?.array?.first?.string, "Bash(npm test)")
        XCTAssertEqual(doc["hooks"]?["PostToolUse"]?.array?.count, 1)
        let pre = try XCTUnwrap(doc["hooks"]?["PreToolUse"]?.array)
        XCTAssertEqual(pre.count, 2)
        XCTAssertEqual(pre[0]["hooks"]?.array?.first?["command"]?.string, "~/bin/audit.sh")
        XCTAssertEqual(pre[1]["hooks"]?.array?.first?["command"]?.string, "/usr/bin/claude-guard hook")
        let backups = try FileManager.default.contentsOfDirectory(atPath: dir + "/.claude").filter {
            $0.hasPrefix("settings.json.bak-")
        }
        XCTAssertEqual(backups.count, 1)
        XCTAssertEqual(try String(contentsOfFile: dir + "/.claude/" + backups[0], encoding: .utf8), old)

        let moved = try ClaudeCodeInit.install(
            .project(dir), command: ClaudeCodeInit.hookCommand(binary: "/new place/claude-guard"), now: 1)
        XCTAssertTrue(moved.changed)
        let doc2 = try XCTUnwrap(JSONValue.parse(try String(contentsOfFile: path, encoding: .utf8)))
        let pre2 = try XCTUnwrap(doc2["hooks"]?["PreToolUse"]?.array)
        XCTAssertEqual(pre2.count, 2)
        XCTAssertEqual(pre2[1]["hooks"]?.array?.first?["command"]?.string, "'/new place/claude-guard' hook")
        XCTAssertTrue(ClaudeCodeInit.isOurs("'/new place/claude-guard' hook --fail-closed"))
        XCTAssertFalse(ClaudeCodeInit.isOurs("claude-guard check -- ls"))
    }

    func testInitLeavesBrokenSettingsAlone() throws {
        let dir = tmp.appendingPathComponent("broken").path
        let path = try write("broken/.claude/settings.json", "{ \"model\": \"opus\", }")
        let out = ClaudeCodeInit.run(target: .project(dir), binary: "/usr/bin/claude-guard", cwd: dir, home: dir)
        XCTAssertEqual(out.exitCode, 2)
        XCTAssertTrue(out.stderr.contains("is not valid JSON"), out.stderr)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "{ \"model\": \"opus\", }")
        _ = try write("broken/.claude/settings.json", "{ \"hooks\": [] }")
        let shape = ClaudeCodeInit.run(target: .project(dir), binary: "/usr/bin/claude-guard", cwd: dir, home: dir)
        XCTAssertEqual(shape.exitCode, 2)
        XCTAssertTrue(shape.stderr.contains("'hooks' is an array"), shape.stderr)
    }

    /// The installed hook, run as Claude Code runs it, finds the project's policy and denies with it.
    func testInstalledHookUsesTheProjectPolicy() throws {
        let dir = tmp.appendingPathComponent("proj").path
        _ = try write(
            "proj/.claude/claude-guard.yaml",
            "version: 1\nname: proj\nrules:\n  - id: no-make-clean\n    description: make clean\n    match: { command: make, args: [clean] }\n    action: kill\n"
        )
        var o = HookTool.Options()
        o.projectDir = dir
        o.linkDirectory = nil
        o.home = tmp.path
        let input =
            "{\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"cwd\":\"\(dir)\",\"tool_input\":{\"command\":\"make -j4 clean\"}}"
        let out = HookTool.run(input: Array(input.utf8), options: o)
        XCTAssertTrue(out.stdout.contains("\"permissionDecision\":\"deny\""), out.stdout)
        XCTAssertTrue(out.stdout.contains("rule 'no-make-clean' (make clean, high) of policy proj"), out.stdout)
        // The policy file itself is protected from the agent.
        let edit =
            "{\"tool_name\":\"Edit\",\"cwd\":\"\(dir)\",\"tool_input\":{\"file_path\":\"\(dir)/.claude/claude-guard.yaml\"}}"
        XCTAssertTrue(HookTool.run(input: Array(edit.utf8), options: o).stdout.contains("\"ask\""))
    }
}
