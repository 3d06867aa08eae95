import Foundation
import XCTest

/// `--otlp`: a guarded run's records reach an OTLP/HTTP receiver that decodes them with the official schema
/// (PyPI's opentelemetry-proto, Tests/Fixtures/otlp/receiver.py), with the documented attributes; a collector
/// that is down never stops enforcement, and what it missed is counted and, once it is back, told.
final class OTLPExportTests: XCTestCase {
    static let policy = Guard.testPolicy("otlp-test", rules: Guard.rmRecursiveForce)

    var dir: URL!
    var policyPath: String!
    var victim: String!

    override func setUpWithError() throws {
        (dir, policyPath) = try Guard.policyDir(Self.policy)
        victim = dir.appendingPathComponent("victim").path
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try "precious".write(toFile: victim + "/file", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// Protobuf: every record of -o arrives once, in order, as a LogRecord with the semantic-convention
    /// attributes, the violation with its rule's severity, the summary, the resource naming the guard, and the
    /// headers from --otlp-header and OTEL_EXPORTER_OTLP_HEADERS.
    func testGuardedRunArrivesWithSemanticAttributes() throws {
        let receiver = try OTLPReceiver()
        let marker = Guard.marker()
        let log = dir.appendingPathComponent("events.jsonl").path
        // The delete in a script of its own: the shell's -c payload is allowed, so ls runs, and rm is killed.
        let script = dir.appendingPathComponent("delete.sh").path
        try "rm -rf \(victim!)\n".write(toFile: script, atomically: true, encoding: .utf8)
        let r = try Guard.run(
            [
                "run", "-q", "--policy", policyPath, "-o", log, "--otlp", "http://127.0.0.1:\(receiver.port)",
                "--otlp-header", "x-tenant=team-a", "--", "bash", "-c",
                "ls / \(marker) 2>/dev/null; bash \(script); echo after",
            ],
            env: ["OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20t0ken,x-tenant=overridden"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim + "/file"), "the victim was deleted")
        let events = Guard.jsonLines(try String(contentsOfFile: log, encoding: .utf8))
        let records = try receiver.records(until: { $0.contains { $0.event == "summary" } })
        XCTAssertEqual(records.map(\.event), events.map { $0["type"] as? String ?? "?" }, "one LogRecord per record")

        // Resource, scope, transport.
        let first = try XCTUnwrap(records.first)
        XCTAssertEqual(first.raw["content_type"] as? String, "application/x-protobuf")
        let resource = try XCTUnwrap(first.raw["resource"] as? [String: Any])
        XCTAssertEqual(resource["service.name"] as? String, "claude-guard")
        XCTAssertNotNil(resource["service.version"] as? String)
        XCTAssertEqual(resource["host.name"] as? String, ProcessInfo.processInfo.hostName)
        XCTAssertEqual(resource["claude_guard.policy"] as? String, "otlp-test")
        XCTAssertEqual(resource["claude_guard.mode"] as? String, "enforce")
        let headers = try XCTUnwrap(first.raw["headers"] as? [String: String])
        XCTAssertEqual(headers["x-tenant"], "team-a", "--otlp-header wins over the variable")
        XCTAssertEqual(headers["authorization"], "Bearer t0ken", "OTEL_EXPORTER_OTLP_HEADERS, percent-decoded")

        // The exec of ls: process.* attributes as the -o record has them, its time, INFO.
        let ls = try XCTUnwrap(records.first { $0.args?.contains(marker) == true && $0.event == "exec" })
        let lsEvent = try XCTUnwrap(Guard.execs(events, containing: marker).first)
        XCTAssertEqual(ls.attributes["process.pid"] as? Int, lsEvent["pid"] as? Int)
        XCTAssertEqual(ls.attributes["process.parent_pid"] as? Int, lsEvent["ppid"] as? Int)
        XCTAssertEqual(ls.attributes["process.executable.path"] as? String, lsEvent["path"] as? String)
        XCTAssertEqual(ls.args, ["ls", "/", marker])
        XCTAssertEqual(ls.attributes["process.working_directory"] as? String, lsEvent["cwd"] as? String)
        XCTAssertEqual(ls.attributes["user.id"] as? String, "0")
        XCTAssertEqual(ls.raw["body"] as? String, "ls / \(marker)")
        XCTAssertEqual(ls.raw["severity_number"] as? Int, 9)
        XCTAssertEqual(ls.raw["event_name"] as? String, "claude_guard.exec")
        let t = try XCTUnwrap(lsEvent["time"] as? String)
        let nanos = try XCTUnwrap(ls.raw["time_unix_nano"] as? Int)
        XCTAssertEqual(Self.rfc3339(nanos), t, "the record's time is the event's")

        // The violation: the rule's severity (critical: FATAL), what was done, the rule.
        let v = try XCTUnwrap(records.first { $0.attributes["claude_guard.rule"] as? String == "rm-recursive-force" })
        XCTAssertEqual(v.raw["severity_number"] as? Int, 21)
        XCTAssertEqual(v.raw["severity_text"] as? String, "critical")
        XCTAssertEqual(v.attributes["claude_guard.enforced"] as? String, "killed")
        XCTAssertEqual(v.args?.first, "rm")

        // The summary: its counts, and what went to the collector before it.
        let s = try XCTUnwrap(records.last)
        XCTAssertEqual(s.event, "summary")
        XCTAssertEqual(s.attributes["claude_guard.violations"] as? Int, 1)
        XCTAssertEqual(s.attributes["claude_guard.otlp_sent"] as? Int, records.count - 1)
        XCTAssertEqual(s.attributes["claude_guard.otlp_dropped"] as? Int, 0)
    }

    /// OTLP/JSON (--otlp-json), gzip from OTEL_EXPORTER_OTLP_COMPRESSION, a base URL's /v1/logs, and
    /// OTEL_EXPORTER_OTLP_LOGS_HEADERS: the same records decode from the official schema's JSON mapping.
    func testJSONEncodingWithGzip() throws {
        let receiver = try OTLPReceiver()
        let marker = Guard.marker()
        let r = try Guard.run(
            [
                "run", "-q", "--policy", policyPath, "--otlp", "http://127.0.0.1:\(receiver.port)/", "--otlp-json",
                "--", "bash", "-c", "ls / \(marker) 2>/dev/null; true",
            ],
            env: ["OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-scope=logs"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let records = try receiver.records(until: { $0.contains { $0.event == "summary" } })
        for rec in records {
            XCTAssertEqual(rec.raw["content_type"] as? String, "application/json")
            XCTAssertEqual(rec.raw["content_encoding"] as? String, "gzip")
            XCTAssertEqual((rec.raw["headers"] as? [String: String])?["x-scope"], "logs")
        }
        let ls = try XCTUnwrap(records.first { $0.args?.contains(marker) == true })
        XCTAssertEqual(ls.args, ["ls", "/", marker])
        XCTAssertNotNil(ls.attributes["process.pid"] as? Int)
        XCTAssertEqual(ls.raw["severity_text"] as? String, "INFO")
    }

    /// No collector at the URL: the denied delete is still killed and the victim survives, the guard ends at
    /// once (it does not wait out retries), and the summary and stderr say nothing was delivered.
    func testCollectorDownNeverStopsEnforcement() throws {
        let port = try OTLPReceiver.freePort()
        let log = dir.appendingPathComponent("events.jsonl").path
        let r = try Guard.run(
            [
                "run", "-q", "--policy", policyPath, "-o", log, "--otlp", "http://127.0.0.1:\(port)", "--",
                "bash", "-c", "rm -rf \(victim!); echo after",
            ], timeout: 30)
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: victim + "/file"), "the victim was deleted")
        let events = Guard.jsonLines(try String(contentsOfFile: log, encoding: .utf8))
        let killed = events.first { $0["rule"] as? String == "rm-recursive-force" }
        XCTAssertEqual(killed?["enforced"] as? String, "killed")
        let summary = try XCTUnwrap(events.last)
        XCTAssertEqual(summary["otlp_sent"] as? Int, 0)
        XCTAssertEqual(summary["otlp_dropped"] as? Int, events.count - 1, "every record before the summary")
        XCTAssertTrue(r.stderr.contains("not delivered"), r.stderr)
        XCTAssertTrue(r.stderr.contains("127.0.0.1:\(port)"), r.stderr)
    }

    /// The collector comes up mid-run: records resume, a `lost` record says how many the full queue dropped
    /// meanwhile (--otlp-queue 4), and the summary counts them.
    func testRecordsResumeWhenCollectorReturns() throws {
        let port = try OTLPReceiver.freePort()
        let go = dir.appendingPathComponent("go").path
        let log = dir.appendingPathComponent("events.jsonl").path
        let g = try Guard.Background([
            "run", "-q", "--policy", policyPath, "-o", log, "--otlp", "http://127.0.0.1:\(port)", "--otlp-queue", "4",
            "--", "bash", "-c", "while [ ! -e \(go) ]; do /bin/true; sleep 0.05; done; ls / >/dev/null",
        ])
        defer { g.stop() }
        // Down: more records than the queue holds.
        try Self.waitFor("40 records logged while the collector is down") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count >= 40
        }
        let receiver = try OTLPReceiver(port: port)
        let lost = try receiver.records(until: { $0.contains { $0.event == "lost" } }).first { $0.event == "lost" }
        XCTAssertEqual(lost?.attributes["claude_guard.source"] as? String, "otlp")
        let missed = try XCTUnwrap(lost?.attributes["claude_guard.count"] as? Int)
        XCTAssertGreaterThan(missed, 0)
        XCTAssertEqual(lost?.raw["severity_text"] as? String, "WARN")
        XCTAssertTrue(FileManager.default.createFile(atPath: go, contents: nil))
        XCTAssertEqual(g.wait(), 0, g.stderr)
        let records = try receiver.records(until: { $0.contains { $0.event == "summary" } })
        let after = records.drop { $0.event != "lost" }.filter { $0.event == "exec" }
        XCTAssertFalse(after.isEmpty, "exec records resumed after the lost record")
        let summary = try XCTUnwrap(records.last)
        XCTAssertEqual(summary.event, "summary")
        // A small queue may overflow again in a burst: each `lost` record tells its own drops.
        let losts = records.filter { $0.event == "lost" }
        let told = losts.compactMap { $0.attributes["claude_guard.count"] as? Int }.reduce(0, +)
        let dropped = try XCTUnwrap(summary.attributes["claude_guard.otlp_dropped"] as? Int)
        XCTAssertGreaterThanOrEqual(dropped, told)
        XCTAssertEqual(
            summary.attributes["claude_guard.otlp_sent"] as? Int, records.count - losts.count - 1,
            "every record but the lost ones and the summary")
    }

    static func rfc3339(_ nanos: Int) -> String {
        var secs = time_t(nanos / 1_000_000_000)
        var t = tm()
        gmtime_r(&secs, &t)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
            t.tm_min, t.tm_sec, (nanos % 1_000_000_000) / 1000)
    }

    static func waitFor(_ what: String, timeout: TimeInterval = 30, _ done: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !done() {
            guard Date() < deadline else {
                XCTFail("gave up waiting for: \(what)")
                throw XCTSkip("not reached: \(what)")
            }
            usleep(20_000)
        }
    }
}

/// Tests/Fixtures/otlp/receiver.py on 127.0.0.1: one JSON line per LogRecord it decoded; stopped (its own
/// process only) on deinit.
final class OTLPReceiver {
    /// One decoded LogRecord.
    struct Record {
        var raw: [String: Any]
        var attributes: [String: Any] { raw["attributes"] as? [String: Any] ?? [:] }
        var event: String? { attributes["claude_guard.event"] as? String }
        var args: [String]? { attributes["process.command_args"] as? [String] }
    }

    let port: Int
    let out: String
    private let process = Process()

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/otlp/receiver.py").path
    }

    /// Starts it on `port` (0: any) and waits for its READY line.
    init(port: Int = 0) throws {
        out = FileManager.default.temporaryDirectory.appendingPathComponent("cg-otlp-\(UUID().uuidString).jsonl").path
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        process.executableURL = URL(fileURLWithPath: Guard.python)
        process.arguments = [Self.script, "--port", String(port), "--out", out]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") && process.isRunning {
            text += String(decoding: stdout.fileHandleForReading.availableData, as: UTF8.self)
        }
        if text.hasPrefix("NO-OTLP-PROTO") {
            throw XCTSkip("PyPI's opentelemetry-proto is not installed (make setup-otlp; pip needs PyPI): \(text)")
        }
        guard text.hasPrefix("READY "), let p = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            XCTFail("the OTLP receiver did not start: \(text)")
            throw XCTSkip("no receiver")
        }
        self.port = p
    }

    /// The records decoded so far, once `done` holds for them (at most 30 s); fails on a request it could not
    /// decode.
    func records(until done: ([Record]) -> Bool) throws -> [Record] {
        var records: [Record] = []
        try OTLPExportTests.waitFor("the receiver's records") {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            records = text.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }.map(Record.init)
            return done(records)
        }
        for r in records where r.raw["error"] != nil { XCTFail("undecodable request: \(r.raw)") }
        return records
    }

    /// A port nothing listens on (bound, then closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw XCTSkip("no free port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: out)
    }
}
