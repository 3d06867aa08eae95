/// The process and TLS connection some HTTPS traffic was captured from.
public struct TrafficSource: Sendable, Equatable {
    public var pid: Int32
    public var tid: Int32
    /// The guarded root (tgid) the process descends from.
    public var root: Int32
    public var comm: [UInt8]
    /// The SSL object: one TLS connection of the process.
    public var connection: UInt64

    public init(pid: Int32, tid: Int32 = 0, root: Int32 = 0, comm: [UInt8] = [], connection: UInt64 = 0) {
        self.pid = pid
        self.tid = tid
        self.root = root
        self.comm = comm
        self.connection = connection
    }
}

/// An `llm` event: a request to an LLM API, a tool use the model asked for, or the response's summary.
public struct LLMEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case request
        case toolUse = "tool_use"
        case response
    }

    public var kind: Kind
    public var source: TrafficSource
    public var api: LLMAPI
    public var host: String
    /// The request target (`/v1/messages?beta=true`).
    public var target: String
    public var model: String?
    public var time: WallTime
    public var monotonicNs: UInt64

    // request
    public var stream: Bool?
    /// Messages in the request, tools offered.
    public var messages: Int?
    public var tools: Int?
    /// Bytes of the request body, and whether some were not captured.
    public var bodyBytes = 0
    public var truncated = false
    /// The request's headers (redacted when written).
    public var headers: [HTTPHeader] = []

    // tool_use
    public var toolUse: ToolUse?

    // response
    public var status: Int?
    public var stopReason: String?
    /// Characters of text the model wrote (the text itself only with --capture-bodies).
    public var textChars = 0
    public var toolUseIDs: [String] = []
    public var error: String?
    public var durationNs: UInt64?

    /// --capture-bodies: the request body (JSON) or the response text.
    public var body: String?

    public init(
        kind: Kind, source: TrafficSource, api: LLMAPI, host: String, target: String, time: WallTime,
        monotonicNs: UInt64
    ) {
        self.kind = kind
        self.source = source
        self.api = api
        self.host = host
        self.target = target
        self.time = time
        self.monotonicNs = monotonicNs
    }
}

/// An `https` event: one HTTP exchange of the tree that is not an LLM API call (or an HTTP/2 connection).
public struct HTTPSEvent: Sendable, Equatable {
    public var source: TrafficSource
    /// `HTTP/1.1`, or `h2` (reported, not decoded).
    public var proto: String
    public var method: String
    public var host: String
    public var target: String
    /// nil when the connection ended before a response.
    public var status: Int?
    public var requestHeaders: [HTTPHeader] = []
    public var responseHeaders: [HTTPHeader] = []
    public var requestBytes = 0
    public var responseBytes = 0
    /// Some bytes of the exchange were not captured (a call over 16 KiB, a lost record).
    public var truncated = false
    public var durationNs: UInt64?
    public var time: WallTime
    public var monotonicNs: UInt64
    /// --capture-bodies: the bodies, decoded (at most 64 KiB each).
    public var requestBody: [UInt8]?
    public var responseBody: [UInt8]?

    public init(
        source: TrafficSource, proto: String, method: String = "", host: String = "", target: String = "",
        time: WallTime, monotonicNs: UInt64
    ) {
        self.source = source
        self.proto = proto
        self.method = method
        self.host = host
        self.target = target
        self.time = time
        self.monotonicNs = monotonicNs
    }
}

/// What the HTTPS traffic of the tree became.
public enum TrafficEvent: Sendable, Equatable {
    case llm(LLMEvent)
    case https(HTTPSEvent)
}

/// JSON Lines of `llm` and `https` events. Credentials are redacted here, at the edge, unless `redact` is false.
public enum TrafficJSON {
    /// One event as a JSON Lines record, newline included.
    public static func line(_ event: TrafficEvent, redact: Bool = true) -> [UInt8] {
        var o = ObjectWriter(redact: redact)
        switch event {
        case .llm(let e): llm(e, into: &o)
        case .https(let e): https(e, into: &o)
        }
        return o.finish()
    }

    static func llm(_ e: LLMEvent, into o: inout ObjectWriter) {
        o.string("type", "llm")
        o.string("kind", e.kind.rawValue)
        o.string("time", RFC3339.format(e.time))
        source(e.source, into: &o)
        o.string("api", e.api.rawValue)
        o.string("provider", e.api.provider)
        o.string("host", e.host)
        o.string("path", e.target, redacted: true)
        if let m = e.model { o.string("model", m) }
        switch e.kind {
        case .request:
            if let s = e.stream { o.raw("stream", s ? "true" : "false") }
            if let n = e.messages { o.raw("messages", String(n)) }
            if let n = e.tools { o.raw("tools", String(n)) }
            o.raw("body_bytes", String(e.bodyBytes))
            o.raw("truncated", e.truncated ? "true" : "false")
            o.headers("headers", e.headers)
        case .toolUse:
            if let use = e.toolUse {
                o.string("id", use.id)
                o.string("name", use.name)
                o.json("input", use.input)
            }
        case .response:
            if let s = e.status { o.raw("status", String(s)) }
            if let r = e.stopReason { o.string("stop_reason", r) }
            o.raw("text_chars", String(e.textChars))
            o.strings("tool_use_ids", e.toolUseIDs)
            if let err = e.error { o.string("error", err, redacted: true) }
            if let d = e.durationNs { o.raw("duration_ms", String(Double(d / 1000) / 1000)) }
        }
        if let b = e.body { o.string("body", b, redacted: true) }
    }

    static func https(_ e: HTTPSEvent, into o: inout ObjectWriter) {
        o.string("type", "https")
        o.string("time", RFC3339.format(e.time))
        source(e.source, into: &o)
        o.string("protocol", e.proto)
        o.string("method", e.method)
        o.string("host", e.host)
        o.string("path", e.target, redacted: true)
        if let s = e.status { o.raw("status", String(s)) } else { o.raw("status", "null") }
        o.raw("request_bytes", String(e.requestBytes))
        o.raw("response_bytes", String(e.responseBytes))
        o.raw("truncated", e.truncated ? "true" : "false")
        if let d = e.durationNs { o.raw("duration_ms", String(Double(d / 1000) / 1000)) }
        o.headers("request_headers", e.requestHeaders)
        o.headers("response_headers", e.responseHeaders)
        if let b = e.requestBody { o.string("request_body", String(decoding: b, as: UTF8.self), redacted: true) }
        if let b = e.responseBody { o.string("response_body", String(decoding: b, as: UTF8.self), redacted: true) }
    }

    private static func source(_ s: TrafficSource, into o: inout ObjectWriter) {
        o.raw("pid", String(s.pid))
        o.raw("tid", String(s.tid))
        o.raw("root", String(s.root))
        o.string("comm", String(decoding: s.comm, as: UTF8.self))
        o.string("connection", "0x" + String(s.connection, radix: 16))
    }

    /// A flat JSON object built member by member; strings go through the project's one escaper.
    struct ObjectWriter {
        let redact: Bool
        private var out: [UInt8] = [UInt8(ascii: "{")]

        init(redact: Bool) { self.redact = redact }

        private mutating func key(_ k: String) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendQuoted(k, into: &out)
            out.append(UInt8(ascii: ":"))
        }

        mutating func raw(_ k: String, _ v: String) {
            key(k)
            out.append(contentsOf: v.utf8)
        }

        mutating func string(_ k: String, _ v: String, redacted: Bool = false) {
            key(k)
            JSONWriter.appendQuoted(redact && redacted ? Redaction.text(v) : v, into: &out)
        }

        mutating func strings(_ k: String, _ vs: [String]) {
            key(k)
            JSONValue.array(vs.map(JSONValue.string)).append(to: &out)
        }

        mutating func json(_ k: String, _ v: JSONValue) {
            key(k)
            (redact ? Redaction.json(v) : v).append(to: &out)
        }

        /// Headers as an object of name to value (a repeated name's values joined by ", ").
        mutating func headers(_ k: String, _ hs: [HTTPHeader]) {
            var members: [JSONValue.Member] = []
            for h in hs {
                let v = redact ? Redaction.header(name: h.name, value: h.value) : h.value
                let name = h.name.lowercased()
                if let i = members.firstIndex(where: { $0.key == name }), let old = members[i].value.string {
                    members[i].value = .string(old + ", " + v)
                } else {
                    members.append(JSONValue.Member(name, .string(v)))
                }
            }
            key(k)
            JSONValue.object(members).append(to: &out)
        }

        mutating func finish() -> [UInt8] {
            out.append(UInt8(ascii: "}"))
            out.append(ASCII.lf)
            return out
        }
    }
}

extension TextFormatter {
    /// The text line of an `llm` or `https` event, in the exec lines' columns:
    /// `LLM tool_use toolu_01… Bash: rm -rf /srv/data` above the execs it causes.
    public func trafficLine(_ event: TrafficEvent, redact: Bool = true) -> String {
        let (source, time, mono, what): (TrafficSource, WallTime, UInt64, String)
        func r(_ s: String) -> String { redact ? Redaction.text(s) : s }
        switch event {
        case .llm(let e):
            var s = "LLM " + e.kind.rawValue + " "
            switch e.kind {
            case .request:
                s += "POST \(e.host)\(r(e.target)) model=\(e.model ?? "?")"
                if e.stream == true { s += " stream" }
            case .toolUse:
                let use = e.toolUse
                s += (use?.id ?? "") + " " + (use?.name ?? "") + ": "
                switch use?.command {
                case .text(let c): s += r(c)
                case .argv(let a): s += r(a.joined(separator: " "))
                case nil:
                    let input = use.map { redact ? Redaction.json($0.input) : $0.input } ?? .object([])
                    s += String(decoding: input.serialized(), as: UTF8.self)
                }
            case .response:
                s += "\(e.status.map(String.init) ?? "-") \(e.stopReason ?? "-") text=\(e.textChars) chars"
                if !e.toolUseIDs.isEmpty { s += " tool_use=\(e.toolUseIDs.joined(separator: ","))" }
                if let err = e.error { s += " error=" + r(err) }
            }
            (source, time, mono, what) = (e.source, e.time, e.monotonicNs, s)
        case .https(let e):
            let status = e.status.map(String.init) ?? "-"
            let s = "HTTPS \(e.method) \(e.host)\(r(e.target)) \(status) \(e.responseBytes)B"
            (source, time, mono, what) = (
                e.source, e.time, e.monotonicNs, e.proto == "h2" ? "HTTPS h2 (not decoded)" : s
            )
        }
        var line = ""
        if options.time { line += pad(Self.clock(time), 9) }
        if options.seconds { line += pad(Self.fixed3(Double(mono &- startNs) / 1e9), 9) }
        if options.uid { line += pad("-", 7) }
        line += pad(Self.printable(source.comm), 17) + pad(String(source.pid), 8) + pad("-", 8) + pad("-", 4)
        return line + Self.printable(Array(what.utf8))
    }
}
