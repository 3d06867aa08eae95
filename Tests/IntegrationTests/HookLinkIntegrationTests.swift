import Foundation
import GuardCore
import GuardKernel
import XCTest

/// The hook link for real: a guard's `HookLink` socket in /run/claude-guard, the built `claude-guard hook` run as
/// Claude Code runs it (`sh -c`, JSON on stdin), and the announced tool use read back; a hook of another user is
/// not heard. Root only (the directory and socket are root's).
final class HookLinkIntegrationTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("cg-hooklink-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        chmod(dir.path, 0o755)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Runs the hook binary through `sh -c` with `json` on stdin, optionally as another user.
    private func hook(_ json: String, asUser uid: Int? = nil) throws -> Guard.Result {
        let input = dir.appendingPathComponent("in-\(UUID().uuidString).json")
        try json.write(to: input, atomically: true, encoding: .utf8)
        chmod(input.path, 0o644)
        let drop = uid.map { "setpriv --reuid=\($0) --regid=\($0) --clear-groups " } ?? ""
        return try Guard.exec("/bin/sh", ["-c", "\(drop)'\(Guard.binary)' hook < '\(input.path)'"])
    }

    private func call(_ id: String, _ command: String) -> String {
        """
        {"hook_event_name":"PreToolUse","session_id":"s","cwd":"/tmp","tool_name":"Bash","tool_use_id":"\(id)",
         "tool_input":{"command":\(JSONValue.string(command).compact)}}
        """
    }

    func testTheGuardHearsTheCallsTheHookLetsThrough() throws {
        let link = try HookLink(agentUID: 0)
        XCTAssertTrue(link.path.hasPrefix("/run/claude-guard/hook-"))
        var st = stat()
        XCTAssertEqual(lstat("/run/claude-guard", &st), 0)
        XCTAssertEqual(st.st_uid, 0)
        XCTAssertEqual(st.st_mode & 0o022, 0)

        XCTAssertEqual(try hook(call("toolu_01Pass", "make -j4 test")).stdout, "")
        XCTAssertTrue(try hook(call("toolu_01Deny", "rm -rf /")).stdout.contains("\"deny\""))
        let uses = link.poll()
        XCTAssertEqual(uses.map(\.id), ["toolu_01Pass"])
        XCTAssertEqual(uses.first?.command, .text("make -j4 test"))
        XCTAssertEqual(uses.first?.name, "Bash")

        // The id goes on the exec Claude Code starts for it, and on that exec's children.
        var linker = ExecLinker()
        for u in uses { linker.expect(u, agent: nil, monotonicNs: 1) }
        let argv = [
            "/bin/bash", "-c", "-l", "source /root/.claude/shell-snapshots/s.sh && eval 'make -j4 test' \\< /dev/null",
        ]
        .map { Array($0.utf8) }
        XCTAssertEqual(
            linker.exec(pid: 4000, ppid: 3999, argv: argv, monotonicNs: 2, parentOf: { _ in nil }),
            .runs("toolu_01Pass"))
    }

    func testAHookOfAnotherUserIsNotHeard() throws {
        let link = try HookLink(agentUID: 0)
        let out = try hook(call("toolu_01Nobody", "make test"), asUser: 65534)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(link.poll(), [])
        XCTAssertEqual(link.refused, 1)
    }

    /// No guard listening, or a dead guard's socket left behind: the hook answers at once all the same.
    func testNoGuardDoesNotSlowTheHook() throws {
        // A socket bound and closed without unlink, as a guard killed with SIGKILL leaves it.
        let stale = "/run/claude-guard/hook-999999999.sock"
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in stale.utf8.enumerated() { raw[i] = b } }
        let s = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(s)
        defer { unlink(stale) }
        XCTAssertEqual(bound, 0)
        let start = Date()
        XCTAssertEqual(try hook(call("toolu_01Alone", "ls")).status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }
}
