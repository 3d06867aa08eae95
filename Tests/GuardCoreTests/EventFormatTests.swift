import Foundation
import XCTest

@testable import GuardCore

/// The JSON Lines encoder and the text formatter: valid, lossless, one line per event.
final class EventFormatTests: XCTestCase {
    private func event(argv: [[UInt8]], path: [UInt8] = Array("/usr/bin/true".utf8)) -> ExecEvent {
        ExecEvent(
            pid: 42, ppid: 7, uid: 1000, gid: 1000, root: 7, comm: Array("true".utf8),
            filename: Array("/bin/true".utf8), path: path, cwd: Array("/home/u/w".utf8), argv: argv,
            cgroupID: 99, monotonicNs: 1_500_000_000, time: WallTime(seconds: 1_795_000_000, micros: 123))
    }

    private func json(_ e: ExecEvent, _ v: Violation? = nil) throws -> [String: Any] {
        var w = JSONWriter()
        EventJSON.exec(e, violation: v, into: &w)
        XCTAssertFalse(w.bytes.contains(0x0A), "one line")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
    }

    func testExecEventHasTheSpecFields() throws {
        let o = try json(event(argv: [Array("true".utf8), Array("a b".utf8)]))
        XCTAssertEqual(o["type"] as? String, "exec")
        XCTAssertEqual(o["time"] as? String, "2026-11-18T11:06:40.000123Z")
        XCTAssertEqual(o["pid"] as? Int, 42)
        XCTAssertEqual(o["ppid"] as? Int, 7)
        XCTAssertEqual(o["uid"] as? Int, 1000)
        XCTAssertEqual(o["comm"] as? String, "true")
        XCTAssertEqual(o["filename"] as? String, "/bin/true")
        XCTAssertEqual(o["path"] as? String, "/usr/bin/true")
        XCTAssertEqual(o["argv"] as? [String], ["true", "a b"])
        XCTAssertEqual(o["cwd"] as? String, "/home/u/w")
        XCTAssertEqual(o["truncated"] as? Bool, false)
        XCTAssertNil(o["argv_b64"], "no raw copy when everything is UTF-8")
        XCTAssertNil(o["rule"])
    }

    func testViolationFields() throws {
        let v = Violation(
            rule: "rm-rf", action: "kill", enforced: "would-kill", severity: "critical", policy: "strict",
            matched: "rm -rf /")
        let o = try json(event(argv: [Array("sh".utf8)]), v)
        XCTAssertEqual(o["rule"] as? String, "rm-rf")
        XCTAssertEqual(o["action"] as? String, "kill")
        XCTAssertEqual(o["enforced"] as? String, "would-kill")
        XCTAssertEqual(o["severity"] as? String, "critical")
        XCTAssertEqual(o["policy"] as? String, "strict")
        XCTAssertEqual(o["matched"] as? String, "rm -rf /")
    }

    func testControlCharactersQuotesAndBackslashesRoundTrip() throws {
        let nasty = "nl\n cr\r tab\t quote\" back\\ bell\u{07} del\u{7F} nul-free ünïcödé 🚀"
        let o = try json(event(argv: [Array(nasty.utf8)]))
        XCTAssertEqual(o["argv"] as? [String], [nasty])
    }

    func testInvalidUTF8IsReplacedInTextAndKeptExactlyInBase64() throws {
        let cases: [[UInt8]] = [
            [0xFF], [0x80], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80] /* surrogate */,
            [0xF4, 0x90, 0x80, 0x80] /* > U+10FFFF */,
            [0xC0, 0xAF] /* overlong */, Array("ok".utf8) + [0xFE] + Array("tail".utf8),
        ]
        for bad in cases {
            let o = try json(event(argv: [Array("x".utf8), bad], path: [0x2F, 0xFF]))
            let text = try XCTUnwrap((o["argv"] as? [String])?[1])
            XCTAssertTrue(text.contains("\u{FFFD}"), "\(bad)")
            let raw = try XCTUnwrap(o["argv_b64"] as? [String])
            XCTAssertEqual(raw.count, 2)
            XCTAssertEqual(Data(base64Encoded: raw[0]), Data("x".utf8))
            XCTAssertEqual(Data(base64Encoded: raw[1]), Data(bad))
            XCTAssertEqual(Data(base64Encoded: try XCTUnwrap(o["path_b64"] as? String)), Data([0x2F, 0xFF]))
        }
    }

    func testValidMultibyteIsNotEscaped() {
        for s in ["é", "€", "😀", "\u{10FFFF}", "\u{FFFD}"] {
            XCTAssertTrue(JSONWriter.isValidUTF8(Array(s.utf8)), s)
        }
    }

    func testHugeArgumentStaysOneValidLine() throws {
        let big = [UInt8](repeating: UInt8(ascii: "\""), count: 100 * 1024)
        let o = try json(event(argv: [big]))
        XCTAssertEqual((o["argv"] as? [String])?.first?.count, 100 * 1024)
    }

    func testBase64() {
        XCTAssertEqual(Base64.encode([]), "")
        XCTAssertEqual(Base64.encode(Array("f".utf8)), "Zg==")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertEqual(Base64.encode(Array("foo".utf8)), "Zm9v")
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 * 7) }
        XCTAssertEqual(Data(base64Encoded: Base64.encode(bytes)), Data(bytes))
    }

    func testExitAndSummaryAndLost() throws {
        var w = JSONWriter()
        EventJSON.exit(
            ExitEvent(
                pid: 5, ppid: 1, root: 1, comm: Array("sh".utf8), rawStatus: 7 << 8, durationNs: 2_500_000,
                time: WallTime(seconds: 0, micros: 0)), into: &w)
        let exit = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        XCTAssertEqual(exit["status"] as? Int, 7)
        XCTAssertTrue(exit["signal"] is NSNull)
        XCTAssertEqual(exit["duration_ms"] as? Double, 2.5)
        w.reset()
        var s = Summary()
        s.violations = 2
        s.perRule = ["b": 1, "a": 1]
        s.exitStatus = 3
        EventJSON.summary(s, time: WallTime(seconds: 0, micros: 0), into: &w)
        let sum = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
        XCTAssertEqual(sum["type"] as? String, "summary")
        XCTAssertEqual(sum["rules"] as? [String: Int], ["a": 1, "b": 1])
        w.reset()
        EventJSON.lost(17, time: WallTime(seconds: 0, micros: 0), into: &w)
        XCTAssertEqual(
            String(decoding: w.bytes, as: UTF8.self),
            #"{"type":"lost","time":"1970-01-01T00:00:00.000000Z","count":17}"#)
    }

    func testExitStatusDecoding() {
        let killed = ExitEvent(
            pid: 1, ppid: 0, root: 1, comm: [], rawStatus: 9, durationNs: 0, time: WallTime(seconds: 0, micros: 0))
        XCTAssertNil(killed.exitCode)
        XCTAssertEqual(killed.signal, 9)
        XCTAssertEqual(killed.shellStatus, 137)
    }

    // MARK: text

    func testTextColumnsMatchExecsnoop() {
        let f = TextFormatter(options: TextOptions(), startNs: 0)
        XCTAssertEqual(f.header, "PCOMM            PID     PPID    RET ARGS")
        XCTAssertEqual(
            f.line(event(argv: [Array("true".utf8), Array("x".utf8)])), "true             42      7       0   true x")
    }

    func testTimeSecondsAndUidColumns() {
        let f = TextFormatter(options: TextOptions(time: true, seconds: true, uid: true), startNs: 500_000_000)
        XCTAssertEqual(f.header, "TIME     TIME(s)  UID    PCOMM            PID     PPID    RET ARGS")
        XCTAssertEqual(
            f.line(event(argv: [Array("true".utf8)])),
            "11:06:40 1.000    1000   true             42      7       0   true")
    }

    func testShellPayloadIsShownUnwrapped() {
        let f = TextFormatter(options: TextOptions(), startNs: 0)
        for argv in [
            ["sh", "-c", "git status"], ["/bin/bash", "-lc", "git status"],
            ["bash", "-o", "pipefail", "-c", "git status"], ["zsh", "-e", "-c", "git status", "zsh"],
        ] {
            XCTAssertTrue(f.line(event(argv: argv.map { Array($0.utf8) })).hasSuffix("EXEC | git status"), "\(argv)")
        }
        XCTAssertTrue(f.line(event(argv: [Array("bash".utf8), Array("script.sh".utf8)])).hasSuffix("bash script.sh"))
        XCTAssertNil(TextFormatter.shellPayload([Array("python3".utf8), Array("-c".utf8), Array("x".utf8)]))
    }

    func testQuoteMaxArgsAndEscapes() {
        let f = TextFormatter(options: TextOptions(quote: true, maxArgs: 2), startNs: 0)
        let line = f.line(event(argv: [Array("echo".utf8), Array("a \"b\"\n".utf8), Array("c".utf8)]))
        XCTAssertTrue(line.hasSuffix(#""echo" "a \"b\"\n" ..."#), line)
        let raw = TextFormatter.printable([0x61, 0x0A, 0xFF, 0x09, 0x01] + Array("é".utf8))
        XCTAssertEqual(raw, "a\\n\\xff\\t\\x01é")
    }

    func testTruncatedIsMarked() {
        var e = event(argv: [Array("true".utf8)])
        e.truncated = true
        XCTAssertTrue(TextFormatter(options: TextOptions(), startNs: 0).line(e).hasSuffix("true ..."))
    }

    func testFailedExecShowsNegativeErrno() {
        var e = event(argv: [Array("nope".utf8)])
        e.kind = .failed(errno: 2)
        XCTAssertEqual(
            TextFormatter(options: TextOptions(), startNs: 0).line(e), "true             42      7       -2  nope")
    }
}
