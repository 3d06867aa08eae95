/// One header line of an HTTP/1.1 message, as written.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The start line and headers of an HTTP/1.1 request or response.
public struct HTTPHead: Sendable, Equatable {
    public var isRequest: Bool
    /// Request: `POST`, `GET` …
    public var method = ""
    /// Request: the target as written (`/v1/messages?beta=true`).
    public var target = ""
    public var version = ""
    /// Response: the status code.
    public var status = 0
    public var headers: [HTTPHeader] = []

    public init(isRequest: Bool) { self.isRequest = isRequest }

    /// The first header of that name (case-insensitive), trimmed.
    public func value(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }

    /// The target without its query.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }
}

/// An incremental reader of one direction of an HTTP/1.1 connection: heads, then bodies de-chunked.
///
/// Fed the bytes of each SSL call in order. A call whose bytes were only partly captured (`missing` bytes after
/// the data) is skipped over inside a body of known length; anywhere else the reader has lost its place and
/// waits for a call that starts a new message (`HTTP/1.1 200` or `GET /x HTTP/1.1`), as a new message usually
/// begins a write of its own.
struct HTTPMessageReader {
    enum Event: Equatable {
        case head(HTTPHead)
        /// Body bytes (chunked framing removed; content-encoding not).
        case body([UInt8])
        /// Body bytes that were not captured.
        case gap(Int)
        /// The message is complete.
        case end
        /// The connection speaks HTTP/2 (the client preface was seen).
        case http2
    }

    private enum State: Equatable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkCRLF
        case trailers
        case untilClose
        /// Lost (not HTTP, or a gap where the framing is unknown): wait for a call that starts a message.
        case lost
        case http2
    }

    let isRequest: Bool
    private var state = State.head
    private var line: [UInt8] = []
    /// The next response answers a HEAD request (no body whatever its headers say); set by the connection.
    var nextIsHeadResponse = false

    /// A head longer than this is not HTTP (or not worth reading).
    static let maxHead = 64 << 10

    init(isRequest: Bool) { self.isRequest = isRequest }

    var isLost: Bool { state == .lost }
    var isHTTP2: Bool { state == .http2 }
    /// Whether a message is in progress (its head seen, its end not yet).
    var inMessage: Bool { state != .head && state != .lost && state != .http2 }

    /// Reads the bytes of one SSL call; `missing` more bytes of the call were not captured.
    mutating func feed(_ data: [UInt8], missing: Int = 0) -> [Event] {
        var events: [Event] = []
        if state == .http2 { return events }
        if state == .lost {
            guard Self.startsMessage(data, request: isRequest) else { return events }
            state = .head
            line.removeAll()
        }
        var i = 0
        while i < data.count {
            switch state {
            case .head:
                // Accumulate to the blank line that ends the head.
                let start = line.count
                let take = data[i...]
                line.append(contentsOf: take)
                if isRequest && line.count >= 4 && line.starts(with: Self.h2Preface.prefix(min(line.count, 24))) {
                    if line.count >= Self.h2Preface.count {
                        state = .http2
                        events.append(.http2)
                        return events
                    }
                    return events
                }
                guard let end = Self.headEnd(line, from: max(0, start - 3)) else {
                    if line.count > Self.maxHead { lose() }
                    i = data.count
                    continue
                }
                let consumed = end - start
                i += consumed
                guard let head = Self.parseHead(Array(line[0..<end]), request: isRequest) else {
                    lose()
                    return events
                }
                line.removeAll(keepingCapacity: true)
                events.append(.head(head))
                state = bodyState(for: head)
                if state == .head { events.append(.end) }
            case .fixed(let remaining):
                let n = min(remaining, data.count - i)
                events.append(.body(Array(data[i..<(i + n)])))
                i += n
                state = .fixed(remaining: remaining - n)
                if remaining - n == 0 {
                    state = .head
                    events.append(.end)
                }
            case .chunkSize, .chunkCRLF, .trailers:
                guard let nl = data[i...].firstIndex(of: ASCII.lf) else {
                    line.append(contentsOf: data[i...])
                    if line.count > 4096 { lose() }
                    i = data.count
                    continue
                }
                line.append(contentsOf: data[i..<nl])
                i = nl + 1
                if line.last == ASCII.cr { line.removeLast() }
                let text = line
                line.removeAll(keepingCapacity: true)
                switch state {
                case .chunkSize:
                    guard let size = Self.chunkSize(text) else {
                        lose()
                        return events
                    }
                    state = size == 0 ? .trailers : .chunkData(remaining: size)
                case .chunkCRLF:
                    state = .chunkSize
                default:  // trailers: a blank line ends the message
                    if text.isEmpty {
                        state = .head
                        events.append(.end)
                    }
                }
            case .chunkData(let remaining):
                let n = min(remaining, data.count - i)
                events.append(.body(Array(data[i..<(i + n)])))
                i += n
                state = remaining - n == 0 ? .chunkCRLF : .chunkData(remaining: remaining - n)
            case .untilClose:
                events.append(.body(Array(data[i...])))
                i = data.count
            case .lost, .http2:
                i = data.count
            }
        }
        if missing > 0 { skip(missing, into: &events) }
        return events
    }

    /// The connection closed: a body read until close ends here.
    mutating func close() -> [Event] {
        if state == .untilClose {
            state = .head
            return [.end]
        }
        return []
    }

    private mutating func skip(_ n: Int, into events: inout [Event]) {
        switch state {
        case .fixed(let remaining) where n <= remaining:
            events.append(.gap(n))
            state = remaining == n ? .head : .fixed(remaining: remaining - n)
            if remaining == n { events.append(.end) }
        case .chunkData(let remaining) where n <= remaining:
            events.append(.gap(n))
            state = remaining == n ? .chunkCRLF : .chunkData(remaining: remaining - n)
        case .untilClose:
            events.append(.gap(n))
        default:
            lose()
        }
    }

    private mutating func lose() {
        state = .lost
        line.removeAll()
    }

    /// How the body after this head is framed (RFC 9112 §6.3).
    private mutating func bodyState(for head: HTTPHead) -> State {
        if !isRequest {
            let headResponse = nextIsHeadResponse
            nextIsHeadResponse = false
            if headResponse || head.status / 100 == 1 || head.status == 204 || head.status == 304 { return .head }
        }
        if let te = head.value("transfer-encoding"), te.lowercased().contains("chunked") { return .chunkSize }
        if let cl = head.value("content-length"), let n = Int(cl) { return n > 0 ? .fixed(remaining: n) : .head }
        return isRequest ? .head : .untilClose
    }

    static let h2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Index just past the blank line ending a head, searching from `from`.
    static func headEnd(_ b: [UInt8], from: Int) -> Int? {
        var i = from
        while i + 1 < b.count {
            if b[i] == ASCII.lf {
                if b[i + 1] == ASCII.lf { return i + 2 }
                if b[i + 1] == ASCII.cr && i + 2 < b.count && b[i + 2] == ASCII.lf { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    /// Whether a call's bytes begin a message: `HTTP/1.x NNN` for a response, `METHOD /target HTTP/1.x` for a
    /// request (or the HTTP/2 preface).
    static func startsMessage(_ b: [UInt8], request: Bool) -> Bool {
        if !request { return b.starts(with: Array("HTTP/1.".utf8)) }
        if b.starts(with: h2Preface.prefix(min(b.count, h2Preface.count))) && b.count >= 4 { return true }
        guard let sp = b.prefix(16).firstIndex(of: ASCII.space), sp > 0 else { return false }
        guard b[0..<sp].allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return false }
        let lineEnd = b.prefix(8192).firstIndex(of: ASCII.lf) ?? min(b.count, 8192)
        return b[sp..<lineEnd].starts(with: [ASCII.space]) && containsSlice(b[sp..<lineEnd], " HTTP/1.")
    }

    private static func containsSlice(_ b: ArraySlice<UInt8>, _ s: String) -> Bool {
        let needle = Array(s.utf8)
        guard b.count >= needle.count else { return false }
        var i = b.startIndex
        while i + needle.count <= b.endIndex {
            if b[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// Parses a complete head (start line, header lines, blank line); nil when it is not HTTP/1.x.
    static func parseHead(_ b: [UInt8], request: Bool) -> HTTPHead? {
        var lines = b.split(separator: ASCII.lf, omittingEmptySubsequences: false).map { l -> ArraySlice<UInt8> in
            l.last == ASCII.cr ? l.dropLast() : l
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let first = lines.first else { return nil }
        let parts = first.split(separator: ASCII.space, maxSplits: 2, omittingEmptySubsequences: true)
        var head = HTTPHead(isRequest: request)
        if request {
            guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)) else { return nil }
            head.method = String(decoding: parts[0], as: UTF8.self)
            head.target = String(decoding: parts[1], as: UTF8.self)
            head.version = String(decoding: parts[2], as: UTF8.self)
        } else {
            guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)),
                let status = Int(String(decoding: parts[1], as: UTF8.self))
            else { return nil }
            head.version = String(decoding: parts[0], as: UTF8.self)
            head.status = status
        }
        for l in lines.dropFirst() {
            guard let colon = l.firstIndex(of: ASCII.colon) else { continue }
            let name = String(decoding: l[l.startIndex..<colon], as: UTF8.self)
            var value = l[(colon + 1)...]
            while let f = value.first, f == ASCII.space || f == ASCII.tab { value = value.dropFirst() }
            while let z = value.last, z == ASCII.space || z == ASCII.tab { value = value.dropLast() }
            head.headers.append(HTTPHeader(name, String(decoding: value, as: UTF8.self)))
        }
        return head
    }

    /// The size of a chunk-size line (hex, extensions after `;` ignored).
    static func chunkSize(_ line: [UInt8]) -> Int? {
        var n = 0
        var digits = 0
        for b in line {
            let d: Int
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int(b - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = Int(b - UInt8(ascii: "A")) + 10
            case ASCII.semicolon, ASCII.space, ASCII.tab:
                return digits > 0 ? n : nil
            default: return nil
            }
            digits += 1
            guard digits <= 15 else { return nil }
            n = n << 4 | d
        }
        return digits > 0 ? n : nil
    }
}
