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
