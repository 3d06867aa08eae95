import Foundation
import XCTest

/// Intent next to action through the CLI (issue 15): `claude-guard run` on a Node client that replays Claude
/// Code's loop against a local HTTPS server shows the tool_use, links the exec that runs it, and the denied
/// command's violation carries the tool_use_id; the API key appears in no output.
final class IntentCLITests: XCTestCase {
    static let apiKey = "sk-ant-api03-cli-test-KEY-\(UInt32.random(in: 0...UInt32.max))"

    func testRunShowsTheToolUseAndLinksTheDeniedExecToIt() throws {
        try Guard.requireRoot()
        let server = try TLSTestServer()
        let victim = "/srv/cg-intent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: victim + "/sub", withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: victim) }
        let log = server.dir + "/events.jsonl"
        let id = "toolu_01Cli\(UInt32.random(in: 0...UInt32.max))"
        // The key goes in through the environment, as an agent has it (not in argv, which every exec event shows).
        let r = try Guard.run(
            [
                "run", "-o", log, "--", "/usr/bin/node", server.nodeClient,
                "https://127.0.0.1:\(server.port)/v1/messages", server.cert, "rm -rf \(victim)", id, "-",
            ], env: ["CG_TEST_API_KEY": Self.apiKey])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim + "/sub"), "the model's rm -rf ran")
        XCTAssertTrue(r.stdout.contains("tool_use \(id)"), r.stdout)
        let events = Guard.jsonLines(try String(contentsOfFile: log, encoding: .utf8))
        let uses = events.filter { ($0["type"] as? String) == "llm" && ($0["kind"] as? String) == "tool_use" }
        XCTAssertEqual(uses.compactMap { $0["id"] as? String }, [id])
        let violations = events.filter { $0["rule"] != nil }
        XCTAssertEqual(violations.compactMap { $0["tool_use_id"] as? String }, [id], "\(violations)")
        let all = (try String(contentsOfFile: log, encoding: .utf8)) + r.stdout + r.stderr
        XCTAssertFalse(all.contains(Self.apiKey), "the API key leaked into the guard's output")
    }
}

extension IntentCLITests {
    /// Without TLS to read (issue 16): the hook tells the running guard the tool use it let through, and the
    /// exec that runs it as Claude Code does (`bash -c -l "… eval 'CMD' …"`) carries that id, with its subtree.
    func testTheHookTellsTheGuardWhichToolUseAnExecRuns() throws {
        try Guard.requireRoot()
        let dir = try Guard.tempDir()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let go = dir.appendingPathComponent("go").path
        let log = dir.appendingPathComponent("events.jsonl").path
        let id = "toolu_01Hook\(UInt32.random(in: 0...UInt32.max))"
        let marker = "m\(UInt32.random(in: 0...UInt32.max))"
        // The agent: waits, then runs the Bash tool's command the way Claude Code wraps it.
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/bin/bash")
        agent.arguments = [
            "-c",
            "while [ ! -e \(go) ]; do sleep 0.02; done; bash -c -l \"source /dev/null && eval 'echo \(marker) | cat' \\\\< /dev/null && pwd -P >| /dev/null\"",
        ]
        try agent.run()
        addTeardownBlock { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }
        let bg = try Guard.Background(["-p", String(agent.processIdentifier), "-S", "-o", log])
        try bg.waitReady()
        let input = dir.appendingPathComponent("hook.json").path
        try """
        {"hook_event_name":"PreToolUse","session_id":"s","cwd":"/tmp","tool_name":"Bash","tool_use_id":"\(id)",
         "tool_input":{"command":"echo \(marker) | cat"}}
        """.write(toFile: input, atomically: true, encoding: .utf8)
        let hook = try Guard.exec("/bin/sh", ["-c", "'\(Guard.binary)' hook < '\(input)'"])
        XCTAssertEqual(hook.status, 0, hook.stderr)
        FileManager.default.createFile(atPath: go, contents: nil)
        agent.waitUntilExit()
        XCTAssertEqual(bg.wait(), 0, bg.stderr)
        let events = Guard.jsonLines(try String(contentsOfFile: log, encoding: .utf8))
        let shell = events.first { e in
            (e["type"] as? String) == "exec" && ((e["argv"] as? [String]) ?? []).contains("-l")
        }
        XCTAssertEqual(shell?["tool_use_id"] as? String, id, "the exec that runs the tool use: \(events)")
        let cat = events.first { e in (e["type"] as? String) == "exec" && (e["argv"] as? [String]) == ["cat"] }
        XCTAssertEqual(cat?["tool_use_id"] as? String, id, "its subtree inherits the id")
    }
}
