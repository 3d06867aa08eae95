import Foundation
import SwiftProtobuf
import XCTest

@testable import GuardCore

/// The records the guard logs as OTLP LogRecords: attribute names, severity, body, time; the messages' wire and
/// JSON encodings; the --otlp / OTEL_EXPORTER_OTLP_* configuration.
final class OTLPMappingTests: XCTestCase {
    static let time = WallTime(seconds: 1_796_219_745, micros: 619_078)

    func line(_ encode: (inout JSONWriter) -> Void) -> [UInt8] {
        var w = JSONWriter()
        encode(&w)
        return w.bytes
    }

    func attributes(_ r: OTLPLogRecord) -> [String: OTLPAnyValue.Value] {
        Dictionary(r.attributes.map { ($0.key, $0.value?.value ?? .string("<none>")) }) { a, _ in a }
    }

    func testExecWithViolationMapsToSemanticConventions() throws {
        let e = ExecEvent(
            pid: 42, ppid: 7, uid: 1000, comm: Array("rm".utf8), filename: Array("/bin/rm".utf8),
            path: Array("/usr/bin/rm".utf8), cwd: Array("/work".utf8),
            argv: ["rm", "-rf", "/x"].map { Array($0.utf8) },
            time: Self.time)
        let v = Violation(
            rule: "rm-rf", action: "kill", enforced: "killed", severity: "critical", policy: "p", matched: "rm -rf /x")
        let bytes = line {
            EventJSON.exec(e, violation: v, into: &$0)
            $0.reopenObject()
            $0.field("tool_use_id", "toolu_01")
            $0.endObject()
        }
        let r = try XCTUnwrap(OTLPMapping.logRecord(jsonLine: bytes, observedNs: 5))
        let a = attributes(r)
        XCTAssertEqual(a["process.pid"], .int(42))
        XCTAssertEqual(a["process.parent_pid"], .int(7))
        XCTAssertEqual(a["user.id"], .string("1000"))
        XCTAssertEqual(a["process.user.id"], .int(1000))
        XCTAssertEqual(a["process.executable.path"], .string("/usr/bin/rm"))
        XCTAssertEqual(a["process.executable.name"], .string("rm"))
        XCTAssertEqual(a["process.working_directory"], .string("/work"))
        XCTAssertEqual(
            a["process.command_args"], .array(OTLPArrayValue(["rm", "-rf", "/x"].map { OTLPAnyValue.string($0) })))
        XCTAssertEqual(a["gen_ai.tool.call.id"], .string("toolu_01"))
        XCTAssertEqual(a["claude_guard.rule"], .string("rm-rf"))
        XCTAssertEqual(a["claude_guard.enforced"], .string("killed"))
        XCTAssertEqual(a["claude_guard.filename"], .string("/bin/rm"))
        XCTAssertEqual(a["claude_guard.event"], .string("exec"))
        XCTAssertNil(a["claude_guard.time"], "the time is the record's timestamp, not an attribute")
        XCTAssertEqual(r.eventName, "claude_guard.exec")
        XCTAssertEqual(r.body?.value, .string("rm -rf /x"))
        XCTAssertEqual(r.severityNumber, 21)
        XCTAssertEqual(r.severityText, "critical")
        XCTAssertEqual(r.timeUnixNano, 1_796_219_745_619_078_000)
        XCTAssertEqual(r.observedTimeUnixNano, 5)
    }

    func testTypeSpecificNames() {
        XCTAssertEqual(OTLPMapping.attributeName("path", type: "exec"), "process.executable.path")
        XCTAssertEqual(OTLPMapping.attributeName("path", type: "file"), "file.path")
        XCTAssertEqual(OTLPMapping.attributeName("path", type: "https"), "url.path")
        XCTAssertEqual(OTLPMapping.attributeName("status", type: "exit"), "process.exit.code")
        XCTAssertEqual(OTLPMapping.attributeName("status", type: "https"), "http.response.status_code")
        XCTAssertEqual(OTLPMapping.attributeName("pid", type: "file"), "process.pid")
        XCTAssertEqual(OTLPMapping.attributeName("count", type: "lost"), "claude_guard.count")
    }

    func testSeverities() {
        let expected: [(String, Int32)] = [("info", 9), ("low", 13), ("medium", 17), ("high", 19), ("critical", 21)]
        for (word, n) in expected {
            XCTAssertEqual(OTLPMapping.severity(type: "exec", rule: word).0, n, word)
            XCTAssertEqual(OTLPMapping.severity(type: "exec", rule: word).1, word)
        }
        XCTAssertEqual(OTLPMapping.severity(type: "exec", rule: nil).0, 9)
        XCTAssertEqual(OTLPMapping.severity(type: "exit", rule: nil).1, "INFO")
        XCTAssertEqual(OTLPMapping.severity(type: "lost", rule: nil).0, 13)
    }

    func testBytesThatAreNotUTF8KeepTheirExactCopy() throws {
        let e = ExecEvent(pid: 1, ppid: 0, filename: [0x66, 0xFF], argv: [[0x66, 0xFF]], time: Self.time)
        let r = try XCTUnwrap(OTLPMapping.logRecord(jsonLine: line { EventJSON.exec(e, into: &$0) }, observedNs: 0))
        let a = attributes(r)
        XCTAssertEqual(a["claude_guard.filename_b64"], .string(Base64.encode([0x66, 0xFF])))
        XCTAssertNotNil(a["claude_guard.argv_b64"])
    }

    func testSummaryNestedValuesAndNulls() throws {
        var s = Summary()
        s.perRule = ["a": 2]
        s.otlpSent = 10
        let r = try XCTUnwrap(
            OTLPMapping.logRecord(jsonLine: line { EventJSON.summary(s, time: Self.time, into: &$0) }, observedNs: 0))
        let a = attributes(r)
        XCTAssertEqual(a["claude_guard.rules"], .kvlist(OTLPKeyValueList([OTLPKeyValue("a", .int(2))])))
        XCTAssertEqual(a["claude_guard.otlp_sent"], .int(10))
        XCTAssertNil(a["claude_guard.exit_status"], "JSON null is left out")
        XCTAssertEqual(r.body?.value, .string("summary"))
    }

    func testNotARecord() {
        XCTAssertNil(OTLPMapping.logRecord(jsonLine: Array("{\"no\":1}".utf8), observedNs: 0))
        XCTAssertNil(OTLPMapping.logRecord(jsonLine: Array("[1".utf8), observedNs: 0))
    }

    func testTimeParsesWhatRFC3339Formats() {
        for t in [WallTime(seconds: 0, micros: 1), Self.time, WallTime(seconds: 4_102_444_799, micros: 999_999)] {
            XCTAssertEqual(
                OTLPMapping.unixNanos(RFC3339.format(t)), UInt64(t.seconds) * 1_000_000_000 + UInt64(t.micros) * 1000)
        }
        XCTAssertEqual(OTLPMapping.unixNanos("2026-01-01T00:00:00Z"), 1_767_225_600_000_000_000)
        XCTAssertNil(OTLPMapping.unixNanos("yesterday"))
    }

    /// The wire bytes are protobuf's (checked by hand against common.proto's field numbers), and decode back.
    func testProtobufWireAndRoundTrip() throws {
        let kv = OTLPKeyValue("a", .string("b"))
        let bytes: [UInt8] = try kv.serializedBytes()
        XCTAssertEqual(bytes, [0x0A, 0x01, 0x61, 0x12, 0x03, 0x0A, 0x01, 0x62])
        var zero = OTLPKeyValue("n", .int(0))
        XCTAssertEqual(
            try zero.serializedBytes() as [UInt8], [0x0A, 0x01, 0x6E, 0x12, 0x02, 0x18, 0x00],
            "a oneof member is written even when it is 0")
        zero.value = nil
        XCTAssertEqual(try zero.serializedBytes() as [UInt8], [0x0A, 0x01, 0x6E])

        var r = OTLPLogRecord()
        r.timeUnixNano = 1
        r.severityNumber = 21
        r.severityText = "critical"
        r.body = .string("rm -rf /")
        r.eventName = "claude_guard.exec"
        r.attributes = [
            OTLPKeyValue("l", OTLPAnyValue(.array(OTLPArrayValue([.int(-3), OTLPAnyValue(.double(1.5))])))),
            OTLPKeyValue("k", OTLPAnyValue(.kvlist(OTLPKeyValueList([OTLPKeyValue("x", OTLPAnyValue(.bool(true)))])))),
            OTLPKeyValue("b", OTLPAnyValue(.bytes([0, 255]))),
        ]
        let request = OTLPResourceInfo(policy: "p", mode: "enforce", hostName: "h").request([r])
        let wire: [UInt8] = try request.serializedBytes()
        XCTAssertEqual(try OTLPExportLogsRequest(serializedBytes: wire), request)
        let json: [UInt8] = try request.jsonUTF8Bytes()
        XCTAssertEqual(try OTLPExportLogsRequest(jsonUTF8Bytes: json), request)
        let text = String(decoding: json, as: UTF8.self)
        // OTLP/JSON: lowerCamelCase names, enums as integers.
        for s in [
            "\"resourceLogs\"", "\"scopeLogs\"", "\"logRecords\"", "\"timeUnixNano\":\"1\"", "\"severityNumber\":21",
            "\"stringValue\":\"rm -rf /\"", "\"eventName\"", "\"kvlistValue\"", "\"arrayValue\"",
        ] {
            XCTAssertTrue(text.contains(s), "\(s) in \(text)")
        }
    }

    func testGzipInflatesBack() {
        let body = Array(String(repeating: "claude-guard ", count: 500).utf8)
        let packed = Gzip.compress(body)
        XCTAssertEqual(packed?.prefix(2), [0x1F, 0x8B])
        XCTAssertLessThan(packed?.count ?? .max, body.count / 10)
        XCTAssertEqual(Inflater(format: .gzip).decode(packed ?? []), body)
    }

    // MARK: configuration

    func testEndpoints() throws {
        func path(_ url: String?, _ env: [String: String] = [:]) throws -> String? {
            try OTLPConfig.resolve(url: url, json: false, headers: [], environment: env)?.url
        }
        XCTAssertEqual(try path("http://127.0.0.1:4318"), "http://127.0.0.1:4318/v1/logs")
        XCTAssertEqual(try path("http://collector/"), "http://collector:4318/v1/logs")
        XCTAssertEqual(try path("http://c:1/otlp"), "http://c:1/otlp/v1/logs")
        XCTAssertEqual(try path("http://c:1/v1/logs"), "http://c:1/v1/logs")
        XCTAssertEqual(try path("http://[::1]:9/"), "http://[::1]:9/v1/logs")
        XCTAssertNil(try path(nil, ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:1"]), "a variable alone sends nothing")
        let on = ["OTEL_LOGS_EXPORTER": "otlp"]
        XCTAssertEqual(try path(nil, on), "http://localhost:4318/v1/logs")
        XCTAssertEqual(
            try path(nil, on.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:1"]) { $1 }), "http://c:1/v1/logs")
        XCTAssertEqual(
            try path(nil, on.merging(["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:2/ingest"]) { $1 }),
            "http://c:2/ingest",
            "the logs endpoint is used as it is")
        XCTAssertEqual(
            try path("http://o:3", on.merging(["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:2/x"]) { $1 }),
            "http://o:3/v1/logs", "--otlp wins")
        XCTAssertThrowsError(try path("https://c")) {
            XCTAssertEqual($0 as? OTLPConfigError, .tlsUnsupported("https://c"))
        }
        XCTAssertThrowsError(try path("c:4318"))
        XCTAssertThrowsError(try path("http://c:99999"))
    }

    func testHeadersCompressionTimeoutProtocol() throws {
        let env = [
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b, x-one=1",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-one=logs",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        ]
        let c = try XCTUnwrap(
            OTLPConfig.resolve(url: "http://c", json: false, headers: ["X-One=cli", "x-two=2"], environment: env))
        XCTAssertEqual(c.headers.map { "\($0.0)=\($0.1)" }, ["api-key=a b", "X-One=cli", "x-two=2"])
        XCTAssertTrue(c.gzip)
        XCTAssertTrue(c.json)
        XCTAssertEqual(c.timeoutMs, 2500)
        XCTAssertEqual(c.queueCapacity, OTLPConfig.defaultQueueCapacity)
        func fails(_ env: [String: String], headers: [String] = []) {
            XCTAssertThrowsError(
                try OTLPConfig.resolve(url: "http://c", json: false, headers: headers, environment: env))
        }
        fails(["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        fails(["OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"])
        fails(["OTEL_EXPORTER_OTLP_TIMEOUT": "soon"])
        fails(["OTEL_EXPORTER_OTLP_HEADERS": "novalue"])
        fails([:], headers: ["=v"])
        fails([:], headers: ["bad name=v"])
        fails([:], headers: ["x=a\r\nInjected: 1"])
    }
}
