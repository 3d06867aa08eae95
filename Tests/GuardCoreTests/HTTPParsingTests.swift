import CZlib
import Foundation
import XCTest

@testable import GuardCore

/// The readers under the HTTPS capture: HTTP/1.1 framing, server-sent events, JSON, gzip/deflate.
final class HTTPParsingTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Feeds `data` in pieces of `size` bytes and collects the events.
    private func read(_ data: [UInt8], request: Bool, piece size: Int) -> [HTTPMessageReader.Event] {
        var r = HTTPMessageReader(isRequest: request)
        var out: [HTTPMessageReader.Event] = []
        var i = 0
        while i < data.count {
            out += r.feed(Array(data[i..<min(data.count, i + size)]))
            i += size
        }
        return out
    }

    /// Body bytes joined, and how many messages ended.
    private func summary(_ events: [HTTPMessageReader.Event]) -> (heads: [HTTPHead], body: [UInt8], ends: Int) {
        var heads: [HTTPHead] = []
        var body: [UInt8] = []
        var ends = 0
        for e in events {
            switch e {
            case .head(let h): heads.append(h)
            case .body(let b): body += b
            case .end: ends += 1
            default: break
            }
        }
        return (heads, body, ends)
    }

    func testRequestHeadAndContentLengthBodyInAnyPieces() {
        let msg = bytes(
            "POST /v1/messages?beta=true HTTP/1.1\r\nHost: api.anthropic.com\r\nX-Api-Key: sk-ant-xyz\r\n"
                + "Content-Length: 11\r\n\r\nhello world")
        for size in [1, 2, 3, 7, 64, 1000] {
            let s = summary(read(msg, request: true, piece: size))
            XCTAssertEqual(s.heads.count, 1, "piece \(size)")
            XCTAssertEqual(s.heads.first?.method, "POST")
            XCTAssertEqual(s.heads.first?.target, "/v1/messages?beta=true")
            XCTAssertEqual(s.heads.first?.path, "/v1/messages")
            XCTAssertEqual(s.heads.first?.value("host"), "api.anthropic.com")
            XCTAssertEqual(s.heads.first?.value("x-api-key"), "sk-ant-xyz")
            XCTAssertEqual(s.body, bytes("hello world"), "piece \(size)")
            XCTAssertEqual(s.ends, 1)
        }
    }

    func testChunkedResponseWithExtensionsAndTrailers() {
        let msg = bytes(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n"
                + "X-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        for size in [1, 4, 9, 500] {
            let s = summary(read(msg, request: false, piece: size))
            XCTAssertEqual(s.heads.map(\.status), [200, 204], "piece \(size)")
            XCTAssertEqual(s.body, bytes("hello world"), "piece \(size)")
            XCTAssertEqual(s.ends, 2)
        }
    }

    func testKeepAliveRequestsAndABodyReadUntilClose() {
        let two = bytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(summary(read(two, request: true, piece: 5)).heads.map(\.target), ["/a", "/b"])
        var r = HTTPMessageReader(isRequest: false)
        var events = r.feed(bytes("HTTP/1.0 200 OK\r\n\r\nstream"))
        events += r.feed(bytes("ing"))
        XCTAssertEqual(summary(events).ends, 0)
        events += r.close()
        XCTAssertEqual(summary(events).body, bytes("streaming"))
        XCTAssertEqual(summary(events).ends, 1)
    }

    func testAResponseToHEADHasNoBody() {
        var r = HTTPMessageReader(isRequest: false)
        r.nextIsHeadResponse = true
        let events = r.feed(
            bytes("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(summary(events).heads.map(\.status), [200, 404])
        XCTAssertEqual(summary(events).ends, 2)
    }

    func testAnUncapturedTailIsSkippedInsideAKnownLength() {
        var r = HTTPMessageReader(isRequest: true)
        var events = r.feed(bytes("POST /v1/messages HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"model\":"), missing: 91)
        XCTAssertTrue(events.contains(.gap(91)))
        XCTAssertTrue(events.contains(.end))
        events = r.feed(bytes("GET /next HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(summary(events).heads.map(\.target), ["/next"])
    }

    func testLostReaderResynchronisesOnAMessageStart() {
        var r = HTTPMessageReader(isRequest: false)
        _ = r.feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"), missing: 5000)
        XCTAssertTrue(r.isLost)
        XCTAssertTrue(r.feed(bytes("garbage\r\n\r\n")).isEmpty)
        let events = r.feed(bytes("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"))
        XCTAssertEqual(summary(events).heads.map(\.status), [201])
        XCTAssertEqual(summary(events).body, bytes("ok"))
    }

    func testHTTP2IsReportedNotDecoded() {
        var r = HTTPMessageReader(isRequest: true)
        XCTAssertEqual(r.feed(bytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + [0, 0, 18, 4]), [.http2])
        XCTAssertTrue(r.feed(bytes("GET / HTTP/1.1\r\n\r\n")).isEmpty)
    }

    func testNotHTTPIsIgnored() {
        var r = HTTPMessageReader(isRequest: false)
        XCTAssertTrue(r.feed([0x16, 0x03, 0x01, 0x00, 0x0A, 0x0A, 0x0D, 0x0A, 0x0A]).isEmpty)
        XCTAssertTrue(r.isLost)
        XCTAssertNil(HTTPMessageReader.chunkSize(bytes("zz")))
        XCTAssertNil(HTTPMessageReader.chunkSize(bytes("fffffffffffffffff")))
        XCTAssertEqual(HTTPMessageReader.chunkSize(bytes("1A; name=v")), 26)
    }

    func testServerSentEventsInAnyPieces() {
        let text = bytes(
            ": comment\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: x\ndata: y\n\nid: 3\n\nevent: e\ndata: last"
        )
        for size in [1, 2, 5, 100] {
            var r = SSEReader()
            var events: [SSEReader.Event] = []
            var i = 0
            while i < text.count {
                events += r.feed(Array(text[i..<min(text.count, i + size)]))
                i += size
            }
            events += r.finish()
            XCTAssertEqual(
                events,
                [
                    SSEReader.Event(name: "message_start", data: bytes("{\"a\":1}")),
                    SSEReader.Event(name: "", data: bytes("x\ny")),
                    SSEReader.Event(name: "e", data: bytes("last")),
                ], "piece \(size)")
        }
    }

    func testJSONValues() throws {
        let v = try XCTUnwrap(JSONValue.parse(#" {"a": [1, -2.5e3, true, null, "\u00e9\ud83d\ude00\n"], "b": {}} "#))
        XCTAssertEqual(v["a"]?[1], .number("-2.5e3"))
        XCTAssertEqual(v["a"]?[4]?.string, "é😀\n")
        XCTAssertEqual(String(decoding: v.serialized(), as: UTF8.self), #"{"a":[1,-2.5e3,true,null,"é😀\n"],"b":{}}"#)
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "01x", "\"\\x\"", "nul", "[1] 2"] {
            XCTAssertNil(JSONValue.parse(bad), bad)
        }
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        XCTAssertNil(JSONValue.parse(deep), "nesting is bounded")
    }

    /// zlib's deflate of `data`: gzip (windowBits 31), zlib (15) or raw (-15).
    static func compress(_ data: [UInt8], windowBits: Int32) -> [UInt8] {
        var s = z_stream()
        XCTAssertEqual(
            deflateInit2_(
                &s, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)),
            Z_OK)
        var input = data
        var out = [UInt8](repeating: 0, count: data.count + 1024)
        let n = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf -> Int in
                s.next_in = inBuf.baseAddress
                s.avail_in = uInt(inBuf.count)
                s.next_out = outBuf.baseAddress
                s.avail_out = uInt(outBuf.count)
                deflate(&s, Z_FINISH)
                return outBuf.count - Int(s.avail_out)
            }
        }
        deflateEnd(&s)
        return Array(out.prefix(n))
    }

    func testGzipAndDeflateInAnyPieces() {
        let plain = bytes(String(repeating: "data: {\"type\":\"ping\"}\n\n", count: 3000))
        for (format, bits) in [(Inflater.Format.gzip, Int32(31)), (.deflate, 15), (.deflate, -15)] {
            let packed = Self.compress(plain, windowBits: bits)
            for size in [1, 7, 4096, packed.count] {
                let inflater = Inflater(format: format)
                var out: [UInt8] = []
                var i = 0
                while i < packed.count {
                    out += inflater.decode(Array(packed[i..<min(packed.count, i + size)]))
                    i += size
                }
                XCTAssertTrue(out == plain, "\(format) \(bits) piece \(size): \(out.count) bytes")
                XCTAssertFalse(inflater.failed)
            }
        }
    }

    func testInflateIsBoundedAndFailsCleanly() {
        let bomb = Self.compress([UInt8](repeating: 0, count: 1 << 20), windowBits: 31)
        let limited = Inflater(format: .gzip, limit: 1000)
        XCTAssertEqual(limited.decode(bomb).count, 1000)
        XCTAssertTrue(limited.truncated)
        let corrupt = Inflater(format: .gzip)
        XCTAssertTrue(corrupt.decode(bytes("not gzip at all")).isEmpty)
        XCTAssertTrue(corrupt.failed)
    }
}
