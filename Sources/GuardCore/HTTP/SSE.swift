/// An incremental reader of `text/event-stream` bodies (server-sent events, WHATWG HTML §9.2.6).
///
/// Fed decoded body bytes in any pieces; returns each event when its blank line arrives. `data:` lines of one
/// event are joined with newlines; `id:`, `retry:` and comments are ignored. A line longer than `maxLine` is
/// dropped (the event it belonged to is then incomplete and its JSON will not parse).
struct SSEReader {
    struct Event: Equatable {
        /// The `event:` field, or "" (the default type, `message`).
        var name: String
        var data: [UInt8]
    }

    static let maxLine = 4 << 20

    private var line: [UInt8] = []
    private var overlong = false
    private var name = ""
    private var data: [UInt8] = []
    private var hasData = false

    mutating func feed(_ bytes: [UInt8]) -> [Event] {
        var events: [Event] = []
        var i = 0
        while i < bytes.count {
            guard let nl = bytes[i...].firstIndex(of: ASCII.lf) else {
                append(bytes[i...])
                break
            }
            append(bytes[i..<nl])
            i = nl + 1
            if line.last == ASCII.cr { line.removeLast() }
            if !overlong, let e = take(line) { events.append(e) }
            line.removeAll(keepingCapacity: true)
            overlong = false
        }
        return events
    }

    /// The stream ended: an event whose blank line never came is dispatched if it has data.
    mutating func finish() -> [Event] {
        var events: [Event] = []
        if !line.isEmpty && !overlong, let e = take(line) { events.append(e) }
        line.removeAll()
        if let e = take([]) { events.append(e) }
        return events
    }

    private mutating func append(_ part: ArraySlice<UInt8>) {
        if overlong { return }
        if line.count + part.count > Self.maxLine {
            overlong = true
            line.removeAll()
            return
        }
        line.append(contentsOf: part)
    }

    /// Handles one line; returns the event a blank line completes.
    private mutating func take(_ l: [UInt8]) -> Event? {
        if l.isEmpty {
            defer {
                name = ""
                data.removeAll()
                hasData = false
            }
            return hasData ? Event(name: name, data: data) : nil
        }
        if l.first == ASCII.colon { return nil }  // a comment
        let colon = l.firstIndex(of: ASCII.colon) ?? l.count
        let field = l[0..<colon]
        var value = colon < l.count ? l[(colon + 1)...] : []
        if value.first == ASCII.space { value = value.dropFirst() }
        if field.elementsEqual("data".utf8) {
            if hasData { data.append(ASCII.lf) }
            data.append(contentsOf: value)
            hasData = true
        } else if field.elementsEqual("event".utf8) {
            name = String(decoding: value, as: UTF8.self)
        }
        return nil
    }
}
