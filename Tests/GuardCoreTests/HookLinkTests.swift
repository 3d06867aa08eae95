import Foundation
import Glibc
import XCTest

@testable import GuardCore

/// The hook link's protocol: records on a `SOCK_SEQPACKET` Unix socket, peer credentials checked, nothing that
/// blocks the hook, and the id linked by the guard's `ExecLinker` to the exec Claude Code starts.
final class HookLinkTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = "/tmp/cg-hl-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        XCTAssertEqual(mkdir(dir, 0o755), 0)
        chmod(dir, 0o755)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func record(_ id: String = "toolu_01A", _ command: String = "npm test") -> ToolUseRecord {
        ToolUseRecord(toolUseID: id, command: command, cwd: "/home/agent/project", sessionID: "s1", time: 1.5e9)
    }

    private func listener(_ admit: @escaping (PeerCredentials) -> Bool = { _ in true }) throws -> HookLinkListener {
        try HookLinkListener(path: dir + "/hook-\(getpid()).sock", accept: admit)
    }

    func testRecordRoundTrip() {
        let r = record("toolu_\u{e9}", "echo 'a\nb' | tr a b; printf \"%s\" \u{1F600}")
        XCTAssertEqual(ToolUseRecord.decode(r.encoded), r)
        let long = record("t", String(repeating: "é", count: 20_000))
        let decoded = ToolUseRecord.decode(long.encoded)
        XCTAssertEqual(decoded?.command.utf8.count, ToolUseRecord.maxCommandBytes)
        XCTAssertTrue(long.command.hasPrefix(decoded?.command ?? "x"))
        for junk in [
            "", "{}", "{\"v\":2,\"id\":\"a\",\"command\":\"b\"}", "{\"v\":1,\"id\":\"\",\"command\":\"b\"}", "[1]",
        ] {
            XCTAssertNil(ToolUseRecord.decode(Array(junk.utf8)), junk)
        }
        XCTAssertEqual(r.toolUse.command, .text(r.command))
        XCTAssertEqual(r.toolUse.id, r.toolUseID)
    }

    /// A record sent and the sender gone: the guard reads it later, with the sender's credentials.
    func testSendThenPoll() throws {
        let l = try listener()
        var st = stat()
        XCTAssertEqual(lstat(l.path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o666)
        XCTAssertEqual(l.poll(), [])
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir, owner: getuid()), 1)
        XCTAssertEqual(HookLinkClient.send(record("toolu_01B", "ls"), directory: dir, owner: getuid()), 1)
        let got = l.poll()
        XCTAssertEqual(got.map(\.toolUseID), ["toolu_01A", "toolu_01B"])
        XCTAssertEqual(got.first?.peerPID, getpid())
        XCTAssertEqual(got.first?.peerUID, getuid())
        XCTAssertEqual(got.first?.cwd, "/home/agent/project")
        XCTAssertEqual(l.poll(), [])
    }

    /// A sender whose credentials the guard does not admit is not heard.
    func testPeerCredentialsAreChecked() throws {
        var seen: [PeerCredentials] = []
        let l = try listener {
            seen.append($0); return $0.uid == 12345
        }
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir, owner: getuid()), 1)
        XCTAssertEqual(l.poll(), [])
        XCTAssertEqual(l.refused, 1)
        XCTAssertEqual(seen, [PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid())])
    }

    /// No guard, a stale socket, an untrusted directory, a guard that never reads: the hook goes on at once (a
    /// send that waited would never return here: nothing reads; bench/hook measures the time per call).
    func testTheHookNeverWaits() throws {
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir, owner: getuid()), 0)
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir + "/missing", owner: getuid()), 0)
        // A stale socket: bound, then its process gone.
        let stale = dir + "/hook-1.sock"
        let s = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        var addr = try XCTUnwrap(HookLinkListener.address(stale))
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        close(s)
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir, owner: getuid()), 0)
        // Not the expected owner, or writable by others: not trusted.
        let l = try listener()
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir, owner: getuid() &+ 1), 0)
        chmod(dir, 0o777)
        XCTAssertEqual(HookLinkClient.send(record(), directory: dir, owner: getuid()), 0)
        chmod(dir, 0o755)
        // A guard that does not read: its backlog fills, later hooks skip it without waiting.
        var delivered = 0
        for i in 0..<200 { delivered += HookLinkClient.send(record("t\(i)"), directory: dir, owner: getuid()) }
        XCTAssertGreaterThan(delivered, 0)
        XCTAssertLessThan(delivered, 200)
        XCTAssertEqual(l.poll().count, delivered)
    }

    /// A connection that has not sent yet does not hold up `poll`; its record comes at a later poll.
    func testPollDoesNotBlockOnASlowSender() throws {
        let l = try listener()
        let s = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        defer { close(s) }
        var addr = try XCTUnwrap(HookLinkListener.address(l.path))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        XCTAssertEqual(rc, 0)
        XCTAssertEqual(l.poll(), [])
        let bytes = record().encoded
        XCTAssertEqual(bytes.withUnsafeBytes { Glibc.send(s, $0.baseAddress, $0.count, 0) }, bytes.count)
        XCTAssertEqual(l.poll().map(\.toolUseID), ["toolu_01A"])
        // A message that is not a record is counted, not returned.
        let j = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0)
        defer { close(j) }
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(j, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        _ = Array("rm -rf /".utf8).withUnsafeBytes { Glibc.send(j, $0.baseAddress, $0.count, 0) }
        XCTAssertEqual(l.poll(), [])
        XCTAssertEqual(l.malformed, 1)
    }

    /// The hook announces the Bash calls it lets through (not the ones it denies), and the guard's linker puts
    /// the id on the exec Claude Code starts for it and on that exec's children.
    func testHookCallLinksTheExecThatFollows() throws {
        let l = try listener()
        var o = HookTool.Options()
        o.policyPath = HookTests.fixtures.appendingPathComponent("policy.yaml").path
        o.workspace = HookTests.workspace
        o.linkDirectory = dir
        o.linkOwner = getuid()
        let command = "npm test -- --grep 'it works'"
        let call = """
            {"hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"toolu_01Link","session_id":"s",
             "cwd":"/home/agent/project","tool_input":{"command":\(JSONValue.string(command).compact)}}
            """
        XCTAssertEqual(HookTool.run(input: Array(call.utf8), options: o).exitCode, 0)
        let denied = call.replacingOccurrences(of: "npm test", with: "rm -rf /; npm test")
            .replacingOccurrences(of: "toolu_01Link", with: "toolu_01Denied")
        XCTAssertTrue(HookTool.run(input: Array(denied.utf8), options: o).stdout.contains("deny"))
        let got = l.poll()
        XCTAssertEqual(got.map(\.toolUseID), ["toolu_01Link"])

        // What Claude Code execs for the call (its shell snapshot wrapper), then a child of that shell.
        let quoted = command.replacingOccurrences(of: "'", with: "'\\''")
        let payload =
            "source /home/agent/.claude/shell-snapshots/snapshot-bash-1.sh && eval '\(quoted)' \\< /dev/null && pwd -P >| /tmp/claude-1a2b-cwd"
        let noParent: (Int32) -> Int32? = { _ in nil }
        func link(_ flags: [String]) -> [ExecLinker.Link?] {
            var linker = ExecLinker()
            for r in got { linker.expect(r.toolUse, agent: nil, root: 100, monotonicNs: 1) }
            let argv = (["/bin/bash"] + flags + [payload]).map { Array($0.utf8) }
            return [
                linker.exec(
                    pid: 200, ppid: 100, root: 100, argv: [Array("git".utf8)], monotonicNs: 2, parentOf: noParent),
                linker.exec(pid: 201, ppid: 100, root: 100, argv: argv, monotonicNs: 3, parentOf: noParent),
                linker.exec(
                    pid: 202, ppid: 201, root: 100, argv: [Array("npm".utf8), Array("test".utf8)], monotonicNs: 4,
                    parentOf: noParent),
            ]
        }
        let expected: [ExecLinker.Link?] = [nil, .runs("toolu_01Link"), .inherits("toolu_01Link")]
        // Claude Code writes `bash -c -l PAYLOAD`: the payload is the first operand after the options.
        XCTAssertEqual(link(["-c", "-l"]), expected)
        XCTAssertEqual(link(["-l", "-c"]), expected)
    }
}
