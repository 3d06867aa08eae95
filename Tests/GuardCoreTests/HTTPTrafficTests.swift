import Foundation
import XCTest

@testable import GuardCore

/// LLM API traffic end to end: TLS plaintext chunks in, `llm` and `https` events out, credentials redacted.
final class HTTPTrafficTests: XCTestCase {
    static let apiKey = "sk-ant-api03-" + String(repeating: "Q", count: 40)

    /// A Messages API request as Claude Code sends it (streaming, `?beta=true`).
    static func messagesRequest(model: String = "claude-sonnet-4-5", extraBody: String = "") -> [UInt8] {
        let body =
            #"{"model":"\#(model)","max_tokens":32000,"stream":true,"messages":[{"role":"user","content":"list files\#(extraBody)"}],"tools":[{"name":"Bash"}]}"#
        return Array(
            ("POST /v1/messages?beta=true HTTP/1.1\r\nHost: api.anthropic.com\r\nx-api-key: \(apiKey)\r\n"
                + "anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                + body).utf8)
    }

    /// A streamed Messages API response: some text, then a Bash tool_use whose input arrives in fragments.
    static func messagesStream(id: String = "toolu_01ABCdef", command: String = "ls -la /tmp") -> [UInt8] {
        let input =
            #"{"command": \#(String(decoding: JSONValue.string(command).serialized(), as: UTF8.self)), "description": "List files"}"#
        let quoted = String(decoding: JSONValue.string(input).serialized(), as: UTF8.self)
        // Split the input JSON into fragments the way the API streams it.
        let third = quoted.count / 3
        let a = String(quoted.dropFirst().prefix(third)), b = String(quoted.dropFirst(third + 1).dropLast())
        func ev(_ name: String, _ data: String) -> String { "event: \(name)\ndata: \(data)\n\n" }
        var s = ev(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":9}}}"#
        )
        s += ev(
            "content_block_start",
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
        s += ev("ping", #"{"type":"ping"}"#)
        s += ev(
            "content_block_delta",
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll list them."}}"#)
        s += ev("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
        s += ev(
            "content_block_start",
            #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"\#(id)","name":"Bash","input":{}}}"#
        )
        s += ev(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#)
        s += ev(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\#(a)"}}"#)
        s += ev(
            "content_block_delta",
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\#(b)"}}"#)
        s += ev("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
        s += ev(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}}"#)
        s += ev("message_stop", #"{"type":"message_stop"}"#)
        return Array(s.utf8)
    }

    /// A response head and body, chunked (in chunks of `chunk` bytes) and optionally gzipped.
    static func response(_ body: [UInt8], gzip: Bool, chunk: Int, type: String = "text/event-stream") -> [UInt8] {
        let payload = gzip ? HTTPParsingTests.compress(body, windowBits: 31) : body
        var out = Array(
            "HTTP/1.1 200 OK\r\ncontent-type: \(type); charset=utf-8\r\nTransfer-Encoding: chunked\r\n\(gzip ? "Content-Encoding: gzip\r\n" : "")set-cookie: session=abc\r\n\r\n"
                .utf8)
        var i = 0
        while i < payload.count {
            let n = min(chunk, payload.count - i)
            out += Array((String(n, radix: 16) + "\r\n").utf8) + payload[i..<(i + n)] + Array("\r\n".utf8)
            i += n
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    private func feed(
        _ t: inout HTTPSTraffic, _ data: [UInt8], outbound: Bool, piece: Int, conn: UInt64 = 0xabc
    )
        -> [TrafficEvent]
    {
        var out: [TrafficEvent] = []
        var i = 0
        while i < data.count {
            let part = Array(data[i..<min(data.count, i + piece)])
            out += t.feed(
                SSLChunk(
                    source: TrafficSource(pid: 100, comm: Array("node".utf8), connection: conn), outbound: outbound,
                    length: part.count, data: part, monotonicNs: UInt64(i)))
            i += piece
        }
        return out
    }

    private func llm(_ events: [TrafficEvent]) -> [LLMEvent] {
        events.compactMap { if case .llm(let e) = $0 { return e } else { return nil } }
    }

    func testStreamedToolUseThroughChunkedGzipSplitAcrossManyReads() throws {
        for (gzip, piece) in [(false, 1), (false, 13), (true, 1), (true, 7), (true, 16384)] {
            var t = HTTPSTraffic()
            var events = feed(&t, Self.messagesRequest(), outbound: true, piece: 1000)
            events += feed(
                &t, Self.response(Self.messagesStream(), gzip: gzip, chunk: 50), outbound: false, piece: piece)
            let l = llm(events)
            XCTAssertEqual(l.map(\.kind), [.request, .toolUse, .response], "gzip \(gzip) piece \(piece)")
            XCTAssertEqual(l.first?.model, "claude-sonnet-4-5")
            XCTAssertEqual(l.first?.stream, true)
            XCTAssertEqual(l.first?.messages, 1)
            XCTAssertEqual(l.first?.tools, 1)
            let use = try XCTUnwrap(l[safe: 1]?.toolUse)
            XCTAssertEqual(use.id, "toolu_01ABCdef")
            XCTAssertEqual(use.name, "Bash")
            XCTAssertEqual(use.command, .text("ls -la /tmp"))
            XCTAssertEqual(use.input["description"]?.string, "List files")
            XCTAssertEqual(l.last?.status, 200)
            XCTAssertEqual(l.last?.stopReason, "tool_use")
            XCTAssertEqual(l.last?.textChars, "I'll list them.".count)
            XCTAssertEqual(l.last?.toolUseIDs, ["toolu_01ABCdef"])
            XCTAssertNil(l.last?.body, "text is summarised unless --capture-bodies")
        }
    }

    func testWholeMessagesResponseAndATruncatedRequestStillNameTheModel() throws {
        var t = HTTPSTraffic()
        var req = Self.messagesRequest(model: "claude-opus-4-1", extraBody: String(repeating: "x", count: 100_000))
        // The capture keeps the first 16 KiB of a call and says how long it was.
        let length = req.count
        req = Array(req.prefix(16384))
        var events = t.feed(
            SSLChunk(source: TrafficSource(pid: 100, connection: 1), outbound: true, length: length, data: req))
        let body =
            #"{"id":"msg_2","type":"message","model":"claude-opus-4-1","content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_02","name":"Bash","input":{"command":"rm -rf /srv/data"}}],"stop_reason":"tool_use"}"#
        let resp = Array(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                .utf8)
        events += t.feed(
            SSLChunk(source: TrafficSource(pid: 100, connection: 1), outbound: false, length: resp.count, data: resp))
        let l = llm(events)
        XCTAssertEqual(l.map(\.kind), [.request, .toolUse, .response])
        XCTAssertEqual(l.first?.model, "claude-opus-4-1", "read from the captured head of the body")
        XCTAssertEqual(l.first?.truncated, true)
        let headEnd = try XCTUnwrap(req.firstRange(of: Array("\r\n\r\n".utf8))).upperBound
        XCTAssertEqual(l.first?.bodyBytes, length - headEnd, "every body byte counted, captured or not")
        XCTAssertEqual(l[1].toolUse?.command, .text("rm -rf /srv/data"))
    }

    func testOpenAIChatCompletionsStreamedToolCalls() {
        let chunks = [
            #"{"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"shell","arguments":""}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"command\":[\"bash\",\"-lc\","}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"ls\"]}"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#, "[DONE]",
        ]
        let sse = Array(chunks.map { "data: \($0)\n\n" }.joined().utf8)
        let req = Array(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz\r\nContent-Length: 2\r\n\r\n{}"
                .utf8)
        var t = HTTPSTraffic()
        var events = feed(&t, req, outbound: true, piece: 10)
        events += feed(&t, Self.response(sse, gzip: false, chunk: 30), outbound: false, piece: 11)
        let l = llm(events)
        XCTAssertEqual(l.map(\.kind), [.request, .toolUse, .response])
        XCTAssertEqual(l[1].toolUse?.id, "call_abc")
        XCTAssertEqual(l[1].toolUse?.command, .argv(["bash", "-lc", "ls"]))
        XCTAssertEqual(l[2].model, "gpt-4.1")
        XCTAssertEqual(l[2].stopReason, "tool_calls")
    }

    func testOpenAIChatWholeAndLegacyFunctionCall() {
        var a = LLMResponseAssembler(api: .openAIChat, keepText: false)
        let body = JSONValue.parse(
            #"{"model":"gpt-4o","choices":[{"message":{"content":"hi","tool_calls":[{"id":"call_1","function":{"name":"run","arguments":"{\"cmd\":\"make\"}"}}],"function_call":{"name":"old","arguments":"not json"}},"finish_reason":"tool_calls"}]}"#
        )
        let uses = a.body(body ?? .null)
        XCTAssertEqual(uses.map(\.id), ["call_1", ""])
        XCTAssertEqual(uses.first?.command, .text("make"))
        XCTAssertEqual(uses.last?.input, .string("not json"))
        XCTAssertEqual(a.textChars, 2)
    }

    func testOpenAIResponsesStreamedAndWhole() {
        var a = LLMResponseAssembler(api: .openAIResponses, keepText: true)
        let events = [
            #"{"type":"response.created","response":{"model":"gpt-5","status":"in_progress"}}"#,
            #"{"type":"response.output_text.delta","output_index":0,"delta":"Running it."}"#,
            #"{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_9","name":"shell","arguments":""}}"#,
            #"{"type":"response.function_call_arguments.delta","output_index":1,"delta":"{\"command\":\"git st"}"#,
            #"{"type":"response.function_call_arguments.delta","output_index":1,"delta":"atus\"}"}"#,
            #"{"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_9","name":"shell","arguments":"{\"command\":\"git status\"}"}}"#,
            #"{"type":"response.completed","response":{"model":"gpt-5","status":"completed"}}"#,
        ]
        var uses: [ToolUse] = []
        for e in events { uses += a.event(JSONValue.parse(e) ?? .null) }
        uses += a.finish()
        XCTAssertEqual(uses.map(\.id), ["call_9"])
        XCTAssertEqual(uses.first?.command, .text("git status"))
        XCTAssertEqual(a.model, "gpt-5")
        XCTAssertEqual(a.text, "Running it.")
        var w = LLMResponseAssembler(api: .openAIResponses, keepText: false)
        let whole = w.body(
            JSONValue.parse(
                #"{"model":"gpt-5","output":[{"type":"local_shell_call","call_id":"call_2","action":{"type":"exec","command":["ls","-l"]}},{"type":"message","content":[{"type":"output_text","text":"done"}]}]}"#
            )
                ?? .null)
        XCTAssertEqual(whole.first?.command, .argv(["ls", "-l"]))
        XCTAssertEqual(w.textChars, 4)
    }

    func testOtherTrafficIsAnHTTPSEventAndHTTP2IsReported() {
        var t = HTTPSTraffic(options: TrafficOptions(captureBodies: true))
        var events = feed(
            &t,
            Array(
                "GET /repos/x?access_token=ghp_\(String(repeating: "a", count: 36)) HTTP/1.1\r\nHost: api.github.com\r\nCookie: a=b\r\n\r\n"
                    .utf8), outbound: true, piece: 9)
        events += feed(
            &t, Self.response(Array("{\"ok\":true}".utf8), gzip: true, chunk: 4, type: "application/json"),
            outbound: false, piece: 3)
        guard case .https(let e)? = events.last else { return XCTFail("no https event: \(events)") }
        XCTAssertEqual(e.method, "GET")
        XCTAssertEqual(e.host, "api.github.com")
        XCTAssertEqual(e.status, 200)
        XCTAssertEqual(e.responseBody, Array("{\"ok\":true}".utf8), "decoded with --capture-bodies")
        let line = String(decoding: TrafficJSON.line(.https(e)), as: UTF8.self)
        XCTAssertFalse(line.contains("ghp_aaaa"), line)
        XCTAssertFalse(line.contains("session=abc"), line)
        XCTAssertTrue(line.contains(#""cookie":"[REDACTED]""#), line)
        var h2 = HTTPSTraffic()
        let preface = feed(
            &h2, Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0], outbound: true,
            piece: 100, conn: 7)
        guard case .https(let p)? = preface.first else { return XCTFail("h2 not reported") }
        XCTAssertEqual(p.proto, "h2")
    }

    func testLLMEventJSONIsValidAndRedacted() throws {
        var t = HTTPSTraffic()
        var events = feed(&t, Self.messagesRequest(), outbound: true, piece: 4096)
        events += feed(
            &t,
            Self.response(
                Self.messagesStream(command: "curl -H 'x-api-key: \(Self.apiKey)' https://x"), gzip: false, chunk: 4096),
            outbound: false, piece: 4096)
        XCTAssertEqual(llm(events).count, 3)
        for e in events {
            let line = TrafficJSON.line(e)
            XCTAssertEqual(line.last, 0x0A)
            XCTAssertEqual(line.filter { $0 == 0x0A }.count, 1, "one line")
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            XCTAssertEqual(o["type"] as? String, "llm")
            let text = String(decoding: line, as: UTF8.self)
            XCTAssertFalse(text.contains(Self.apiKey), "the key never appears: \(text)")
            if o["kind"] as? String == "tool_use" {
                XCTAssertEqual(o["id"] as? String, "toolu_01ABCdef")
                XCTAssertEqual(o["name"] as? String, "Bash")
                let input = try XCTUnwrap(o["input"] as? [String: Any])
                XCTAssertEqual(input["command"] as? String, "curl -H 'x-api-key: [REDACTED]' https://x")
            }
            if o["kind"] as? String == "request" {
                XCTAssertEqual((o["headers"] as? [String: String])?["x-api-key"], "[REDACTED]")
            }
        }
        let f = TextFormatter(options: TextOptions(), startNs: 0)
        let line = f.trafficLine(events[1])
        XCTAssertTrue(line.hasPrefix("node "), line)
        XCTAssertTrue(
            line.contains("LLM tool_use toolu_01ABCdef Bash: curl -H 'x-api-key: [REDACTED]' https://x"), line)
        XCTAssertFalse(line.contains(Self.apiKey))
    }

    func testRedaction() {
        XCTAssertEqual(Redaction.header(name: "Authorization", value: "Bearer abc.def"), "Bearer [REDACTED]")
        XCTAssertEqual(Redaction.header(name: "X-API-Key", value: "whatever"), "[REDACTED]")
        XCTAssertEqual(Redaction.header(name: "Accept", value: "*/*"), "*/*")
        XCTAssertEqual(
            Redaction.text("export ANTHROPIC_API_KEY=sk-ant-xyz && GITHUB_TOKEN='abc def' make"),
            "export ANTHROPIC_API_KEY=[REDACTED] && GITHUB_TOKEN='[REDACTED]' make")
        XCTAssertEqual(Redaction.text("key AKIAABCDEFGHIJKLMNOP here"), "key [REDACTED] here")
        XCTAssertEqual(
            Redaction.text("task-abcdefghijklmnopqrstuvwxyz0123 stays"), "task-abcdefghijklmnopqrstuvwxyz0123 stays")
        XCTAssertEqual(Redaction.text("no secrets, max_tokens=5 here"), "no secrets, max_tokens=5 here")
        let j = Redaction.json(
            JSONValue.parse(
                #"{"api_key":"x","max_tokens":5,"nested":[{"password":"p","note":"sk-abcdefghijklmnopqrstuvwx"}]}"#)
                ?? .null)
        XCTAssertEqual(
            String(decoding: j.serialized(), as: UTF8.self),
            #"{"api_key":"[REDACTED]","max_tokens":5,"nested":[{"password":"[REDACTED]","note":"[REDACTED]"}]}"#)
    }

    func testExitEndsAResponseReadUntilCloseAndBoundsConnections() {
        var t = HTTPSTraffic(options: TrafficOptions(maxConnections: 4))
        _ = feed(&t, Array("GET /x HTTP/1.1\r\nHost: h\r\n\r\n".utf8), outbound: true, piece: 100, conn: 1)
        _ = feed(&t, Array("HTTP/1.0 200 OK\r\n\r\npartial".utf8), outbound: false, piece: 100, conn: 1)
        let events = t.processExited(100, time: WallTime(seconds: 0, micros: 0), monotonicNs: 9)
        guard case .https(let e)? = events.first else { return XCTFail("nothing at exit") }
        XCTAssertEqual(e.responseBytes, 7)
        XCTAssertEqual(t.connectionCount, 0)
        for c in 0..<10 {
            _ = feed(&t, Array("GET / HTTP/1.1\r\n\r\n".utf8), outbound: true, piece: 100, conn: UInt64(c))
        }
        XCTAssertLessThanOrEqual(t.connectionCount, 4)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
