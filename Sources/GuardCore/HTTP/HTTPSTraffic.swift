/// The plaintext of one SSL_read/SSL_write call of a tracked process, as the capture reports it.
public struct SSLChunk: Sendable {
    public var source: TrafficSource
    /// Written by the process (a request), else read (a response).
    public var outbound: Bool
    /// Bytes the call moved; `data` holds the first of them (all, unless the call moved more than 16 KiB).
    public var length: Int
    public var data: [UInt8]
    public var monotonicNs: UInt64
    public var time: WallTime

    public init(
        source: TrafficSource, outbound: Bool, length: Int, data: [UInt8], monotonicNs: UInt64 = 0,
        time: WallTime = WallTime(seconds: 0, micros: 0)
    ) {
        self.source = source
        self.outbound = outbound
        self.length = length
        self.data = data
        self.monotonicNs = monotonicNs
        self.time = time
    }
}

/// What the decoder keeps and how much state it holds.
public struct TrafficOptions: Sendable {
    /// --capture-bodies: bodies (at most 64 KiB each) and the model's text in the events.
    public var captureBodies = false
    /// Connections followed at once; the least recently used one is closed beyond this.
    public var maxConnections = 1024

    public init(captureBodies: Bool = false, maxConnections: Int = 1024) {
        self.captureBodies = captureBodies
        self.maxConnections = maxConnections
    }
}

/// Turns the TLS plaintext of the guarded tree into `llm` and `https` events: HTTP/1.1 per connection in both
/// directions, chunked and gzip/deflate bodies, server-sent events, and the tool uses of LLM API responses.
///
/// Pure: fed `SSLChunk`s in ring buffer order (one connection's calls are in call order), it returns the events
/// each call completes. Only what an event needs is kept, within fixed bounds per connection.
public struct HTTPSTraffic {
    public let options: TrafficOptions
    private var connections: [Key: Connection] = [:]

    private struct Key: Hashable {
        var pid: Int32
        var ssl: UInt64
    }

    public init(options: TrafficOptions = TrafficOptions()) { self.options = options }

    public var connectionCount: Int { connections.count }

    /// Reads one call's bytes; returns the events they complete.
    public mutating func feed(_ chunk: SSLChunk) -> [TrafficEvent] {
        let key = Key(pid: chunk.source.pid, ssl: chunk.source.connection)
        var events: [TrafficEvent] = []
        let conn: Connection
        if let c = connections[key] {
            conn = c
        } else {
            if connections.count >= options.maxConnections,
                let oldest = connections.min(by: { $0.value.lastNs < $1.value.lastNs })
            {
                events += oldest.value.close(at: chunk)
                connections.removeValue(forKey: oldest.key)
            }
            conn = Connection(options: options)
            connections[key] = conn
        }
        events += conn.feed(chunk)
        return events
    }

    /// A process exited: its connections end (a body read until close completes).
    public mutating func processExited(_ pid: Int32, time: WallTime, monotonicNs: UInt64) -> [TrafficEvent] {
        var events: [TrafficEvent] = []
        let at = SSLChunk(
            source: TrafficSource(pid: pid), outbound: false, length: 0, data: [], monotonicNs: monotonicNs, time: time)
        for (key, conn) in connections where key.pid == pid {
            events += conn.close(at: at)
            connections.removeValue(forKey: key)
        }
        return events
    }
}

/// One request and its response on a connection.
private final class Exchange {
    var request: HTTPHead
    let api: LLMAPI?
    let source: TrafficSource
    let startNs: UInt64
    let startTime: WallTime
    var requestBody: [UInt8] = []
    var requestBytes = 0
    var requestDone = false
    var truncated = false
    var response: HTTPHead?
    var responseBody: [UInt8] = []
    var responseBytes = 0
    var inflater: Inflater?
    /// A hole in a compressed body: the rest cannot be decoded.
    var undecodable = false
    var sse: SSEReader?
    var assembler: LLMResponseAssembler?

    init(request: HTTPHead, source: TrafficSource, at chunk: SSLChunk) {
        self.request = request
        self.source = source
        api = LLMAPI.from(method: request.method, path: request.path)
        startNs = chunk.monotonicNs
        startTime = chunk.time
    }

    var host: String { request.value("host") ?? "" }
}

/// Both directions of one TLS connection and the exchanges awaiting their responses, in order.
private final class Connection {
    let options: TrafficOptions
    var requests = HTTPMessageReader(isRequest: true)
    var responses = HTTPMessageReader(isRequest: false)
    var exchanges: [Exchange] = []
    var lastNs: UInt64 = 0
    var http2Reported = false

    /// Bytes of an LLM request body kept to read its model (the head of a call is what is captured anyway).
    static let llmRequestKeep = 1 << 20
    /// Bytes of a whole (non-streamed) LLM response kept to read its tool uses.
    static let llmResponseKeep = 8 << 20
    /// Bytes of a body kept for --capture-bodies.
    static let bodyKeep = 64 << 10

    init(options: TrafficOptions) { self.options = options }

    func feed(_ chunk: SSLChunk) -> [TrafficEvent] {
        lastNs = chunk.monotonicNs
        let missing = max(0, chunk.length - chunk.data.count)
        var events: [TrafficEvent] = []
        if chunk.outbound {
            for e in requests.feed(chunk.data, missing: missing) { events += request(e, chunk) }
        } else {
            // A response to HEAD has no body: tell the reader before it reads that response's head.
            if !responses.inMessage, let next = exchanges.first(where: { $0.response == nil }) {
                responses.nextIsHeadResponse = next.request.method == "HEAD"
            }
            for e in responses.feed(chunk.data, missing: missing) { events += response(e, chunk) }
        }
        return events
    }

    /// The connection is gone: a response read until close ends; unanswered requests are reported as such.
    func close(at chunk: SSLChunk) -> [TrafficEvent] {
        var events: [TrafficEvent] = []
        for e in responses.close() { events += response(e, chunk) }
        for x in exchanges where x.api == nil && x.requestDone {
            events.append(.https(httpsEvent(x, at: chunk)))
        }
        exchanges.removeAll()
        return events
    }

    private func request(_ e: HTTPMessageReader.Event, _ chunk: SSLChunk) -> [TrafficEvent] {
        switch e {
        case .head(let head):
            exchanges.append(Exchange(request: head, source: chunk.source, at: chunk))
        case .body(let b):
            guard let x = exchanges.last else { break }
            x.requestBytes += b.count
            let keep = x.api != nil ? Self.llmRequestKeep : (options.captureBodies ? Self.bodyKeep : 0)
            if x.requestBody.count < keep { x.requestBody += b.prefix(keep - x.requestBody.count) }
        case .gap(let n):
            exchanges.last?.requestBytes += n
            exchanges.last?.truncated = true
        case .end:
            guard let x = exchanges.last else { break }
            x.requestDone = true
            if x.api != nil { return [.llm(requestEvent(x, at: chunk))] }
        case .http2:
            guard !http2Reported else { break }
            http2Reported = true
            return [
                .https(HTTPSEvent(source: chunk.source, proto: "h2", time: chunk.time, monotonicNs: chunk.monotonicNs))
            ]
        }
        return []
    }

    private func response(_ e: HTTPMessageReader.Event, _ chunk: SSLChunk) -> [TrafficEvent] {
        switch e {
        case .head(let head):
            if head.status / 100 == 1 { return [] }  // 100 Continue: the final response follows
            let x: Exchange
            if let waiting = exchanges.first(where: { $0.response == nil }) {
                x = waiting
            } else {
                // Capture began mid-connection: a response without its request.
                x = Exchange(request: HTTPHead(isRequest: true), source: chunk.source, at: chunk)
                exchanges.append(x)
            }
            x.response = head
            switch head.value("content-encoding")?.lowercased() {
            case "gzip", "x-gzip": x.inflater = Inflater(format: .gzip)
            case "deflate": x.inflater = Inflater(format: .deflate)
            default: break
            }
            if head.value("content-type")?.lowercased().contains("text/event-stream") == true { x.sse = SSEReader() }
            if let api = x.api { x.assembler = LLMResponseAssembler(api: api, keepText: options.captureBodies) }
        case .body(let raw):
            guard let x = exchanges.first(where: { $0.response != nil }) else { break }
            x.responseBytes += raw.count
            if x.undecodable { break }
            let plain = x.inflater.map { $0.decode(raw) } ?? raw
            if x.inflater?.failed == true || x.inflater?.truncated == true { x.truncated = true }
            return body(plain, of: x, chunk)
        case .gap(let n):
            guard let x = exchanges.first(where: { $0.response != nil }) else { break }
            x.responseBytes += n
            x.truncated = true
            // A compressed stream cannot resume after a hole.
            if x.inflater != nil { x.undecodable = true }
        case .end:
            guard let i = exchanges.firstIndex(where: { $0.response != nil }) else { break }
            let x = exchanges.remove(at: i)
            return finish(x, chunk)
        case .http2:
            break
        }
        return []
    }

    /// Decoded response body bytes: server-sent events to the assembler, or kept for the end.
    private func body(_ plain: [UInt8], of x: Exchange, _ chunk: SSLChunk) -> [TrafficEvent] {
        if var sse = x.sse {
            var uses: [ToolUse] = []
            for ev in sse.feed(plain) { uses += sseEvent(ev, x) }
            x.sse = sse
            if options.captureBodies && x.api == nil && x.responseBody.count < Self.bodyKeep {
                x.responseBody += plain.prefix(Self.bodyKeep - x.responseBody.count)
            }
            return uses.map { .llm(toolUseEvent($0, x, at: chunk)) }
        }
        let keep = x.api != nil ? Self.llmResponseKeep : (options.captureBodies ? Self.bodyKeep : 0)
        if x.responseBody.count < keep { x.responseBody += plain.prefix(keep - x.responseBody.count) }
        return []
    }

    private func sseEvent(_ ev: SSEReader.Event, _ x: Exchange) -> [ToolUse] {
        guard x.assembler != nil else { return [] }
        if ev.data.elementsEqual("[DONE]".utf8) { return x.assembler?.finish() ?? [] }
        guard let json = JSONValue.parse(ev.data) else { return [] }
        return x.assembler?.event(json) ?? []
    }

    private func finish(_ x: Exchange, _ chunk: SSLChunk) -> [TrafficEvent] {
        var events: [TrafficEvent] = []
        var uses: [ToolUse] = []
        if var sse = x.sse {
            for ev in sse.finish() { uses += sseEvent(ev, x) }
            uses += x.assembler?.finish() ?? []
        } else if x.assembler != nil, let json = JSONValue.parse(x.responseBody) {
            uses += x.assembler?.body(json) ?? []
        }
        events += uses.map { .llm(toolUseEvent($0, x, at: chunk)) }
        if let a = x.assembler {
            var e = llmEvent(.response, x, at: chunk)
            e.status = x.response?.status
            e.model = a.model ?? e.model
            e.stopReason = a.stopReason
            e.textChars = a.textChars
            e.toolUseIDs = a.toolUseIDs
            e.error = a.error
            e.durationNs = chunk.monotonicNs &- x.startNs
            e.truncated = x.truncated
            if options.captureBodies { e.body = a.text }
            events.append(.llm(e))
        } else {
            events.append(.https(httpsEvent(x, at: chunk)))
        }
        return events
    }

    private func llmEvent(_ kind: LLMEvent.Kind, _ x: Exchange, at chunk: SSLChunk) -> LLMEvent {
        var e = LLMEvent(
            kind: kind, source: x.source, api: x.api ?? .anthropicMessages, host: x.host, target: x.request.target,
            time: chunk.time, monotonicNs: chunk.monotonicNs)
        e.model = RequestSummary(x.requestBody, complete: !x.truncated).model
        return e
    }

    private func requestEvent(_ x: Exchange, at chunk: SSLChunk) -> LLMEvent {
        var e = llmEvent(.request, x, at: chunk)
        let summary = RequestSummary(x.requestBody, complete: !x.truncated)
        e.stream = summary.stream
        e.messages = summary.messages
        e.tools = summary.tools
        e.bodyBytes = x.requestBytes
        e.truncated = x.truncated
        e.headers = x.request.headers
        if options.captureBodies {
            e.body = String(decoding: x.requestBody.prefix(Self.bodyKeep), as: UTF8.self)
        }
        return e
    }

    private func toolUseEvent(_ use: ToolUse, _ x: Exchange, at chunk: SSLChunk) -> LLMEvent {
        var e = llmEvent(.toolUse, x, at: chunk)
        e.toolUse = use
        return e
    }

    private func httpsEvent(_ x: Exchange, at chunk: SSLChunk) -> HTTPSEvent {
        var e = HTTPSEvent(
            source: x.source, proto: x.request.version.isEmpty ? "HTTP/1.1" : x.request.version,
            method: x.request.method, host: x.host, target: x.request.target, time: chunk.time,
            monotonicNs: chunk.monotonicNs)
        e.status = x.response?.status
        e.requestHeaders = x.request.headers
        e.responseHeaders = x.response?.headers ?? []
        e.requestBytes = x.requestBytes
        e.responseBytes = x.responseBytes
        e.truncated = x.truncated
        e.durationNs = chunk.monotonicNs &- x.startNs
        if options.captureBodies {
            e.requestBody = x.requestBody
            e.responseBody = x.responseBody
        }
        return e
    }
}

/// What an LLM request body says about the call: the model, streaming, how many messages and tools. Read from
/// the whole JSON when it was captured, else from the head of the text (the model is usually first).
struct RequestSummary {
    var model: String?
    var stream: Bool?
    var messages: Int?
    var tools: Int?

    init(_ body: [UInt8], complete: Bool) {
        if complete, let json = JSONValue.parse(body) {
            model = json["model"]?.string
            if case .bool(let s)? = json["stream"] { stream = s }
            messages = json["messages"]?.array?.count ?? json["input"]?.array?.count
            tools = json["tools"]?.array?.count
            return
        }
        model = Self.stringValue(of: "model", in: body)
        if let t = Self.rawValue(of: "stream", in: body) { stream = t.starts(with: "true".utf8) }
    }

    /// The raw text after `"key":` (spaces skipped), found anywhere in the partial body.
    static func rawValue(of key: String, in b: [UInt8]) -> ArraySlice<UInt8>? {
        let needle = Array("\"\(key)\"".utf8)
        var i = 0
        while i + needle.count <= b.count {
            if b[i] == needle[0] && b[i..<(i + needle.count)].elementsEqual(needle) {
                var j = i + needle.count
                while j < b.count && (b[j] == ASCII.space || b[j] == ASCII.lf || b[j] == ASCII.cr) { j += 1 }
                if j < b.count && b[j] == ASCII.colon {
                    j += 1
                    while j < b.count && (b[j] == ASCII.space || b[j] == ASCII.lf) { j += 1 }
                    return b[j...]
                }
            }
            i += 1
        }
        return nil
    }

    static func stringValue(of key: String, in b: [UInt8]) -> String? {
        guard let v = rawValue(of: key, in: b), v.first == UInt8(ascii: "\"") else { return nil }
        let bytes = Array(v)
        return bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf)
            return p.string()
        }
    }
}
