import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A small JSON Lines writer over bytes.
///
/// Written by hand because Foundation's JSONEncoder takes `String`s, so it cannot
/// carry arbitrary bytes losslessly, and it allocates per value on the hot path.
/// Strings are emitted as valid UTF-8 JSON whatever the input holds: control
/// characters are escaped, and bytes that are not UTF-8 become U+FFFD in the text
/// while the caller adds a `<name>_b64` sibling with the exact bytes (see
/// `field(_:bytes:)`), so every line is valid JSON and nothing is lost.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Reopens the object just closed, so fields can follow what an encoder wrote (close it again after).
    public mutating func reopenObject() {
        guard bytes.last == UInt8(ascii: "}") else { return }
        bytes.removeLast()
        needsComma = bytes.last != UInt8(ascii: "{")
    }

    public mutating func beginArray(_ key: String) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    public mutating func key(_ name: String) {
        separator()
        appendString(Array(name.utf8))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func field(_ name: String, _ value: String) {
        key(name)
        appendString(Array(value.utf8))
        needsComma = true
    }

    public mutating func field(_ name: String, _ value: String?) {
        if let value { field(name, value) } else { fieldNull(name) }
    }

    public mutating func field<T: BinaryInteger>(_ name: String, _ value: T) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func field(_ name: String, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func field(_ name: String, _ value: Double) {
        key(name)
        bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8)
        needsComma = true
    }

    public mutating func fieldNull(_ name: String) {
        key(name)
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// A string field from raw bytes, plus `<name>_b64` with the exact bytes when they are not UTF-8.
    public mutating func field(_ name: String, bytes raw: [UInt8]) {
        key(name)
        appendString(raw)
        needsComma = true
        if !Self.isValidUTF8(raw) { field(name + "_b64", Base64.encode(raw)) }
    }

    /// An array of strings from raw bytes, plus `<name>_b64` (every element) when any is not UTF-8.
    public mutating func field(_ name: String, byteArray: [[UInt8]]) {
        beginArray(name)
        for element in byteArray { value(bytes: element) }
        endArray()
        if !byteArray.allSatisfy(Self.isValidUTF8) {
            beginArray(name + "_b64")
            for element in byteArray { value(Base64.encode(element)) }
            endArray()
        }
    }

    /// An array element.
    public mutating func value(_ string: String) {
        separator()
        appendString(Array(string.utf8))
        needsComma = true
    }

    /// An array element from raw bytes (U+FFFD for what is not UTF-8).
    public mutating func value(bytes raw: [UInt8]) {
        separator()
        appendString(raw)
        needsComma = true
    }

    public mutating func newline() {
        bytes.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a quoted, escaped JSON string; invalid UTF-8 sequences become U+FFFD.
    private mutating func appendString(_ raw: [UInt8]) {
        raw.withUnsafeBufferPointer { Self.appendQuoted($0, into: &bytes) }
    }

    /// Appends `raw` as a quoted JSON string to `out`: quotes, backslashes and controls (and DEL) escaped,
    /// invalid UTF-8 sequences replaced by U+FFFD. The one escaper for every JSON the project writes.
    public static func appendQuoted(_ raw: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var i = 0
        let n = raw.count
        while i < n {
            let b = raw[i]
            if b < 0x80 {
                switch b {
                case ASCII.quote: out.append(contentsOf: [ASCII.backslash, ASCII.quote])
                case ASCII.backslash: out.append(contentsOf: [ASCII.backslash, ASCII.backslash])
                case ASCII.lf: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "n")])
                case ASCII.cr: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "r")])
                case ASCII.tab: out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "t")])
                case 0..<ASCII.space, ASCII.delete:
                    out.append(contentsOf: [ASCII.backslash, UInt8(ascii: "u"), ASCII.zero, ASCII.zero])
                    out.append(hex[Int(b >> 4)])
                    out.append(hex[Int(b & 0xF)])
                default: out.append(b)
                }
                i += 1
                continue
            }
            let len = sequenceLength(raw, i)
            if len == 0 {
                out.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                i += 1
            } else {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: raw[i..<(i + len)]))
                i += len
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a String as a quoted JSON string to `out`.
    public static func appendQuoted(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendQuoted($0, into: &out) }
    }

    /// Length of the valid UTF-8 sequence starting at i (non-ASCII lead), or 0 when invalid.
    static func sequenceLength(_ raw: [UInt8], _ i: Int) -> Int {
        raw.withUnsafeBufferPointer { sequenceLength($0, i) }
    }

    /// Length of the valid UTF-8 sequence starting at i (non-ASCII lead), or 0 when invalid.
    static func sequenceLength(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let b0 = raw[i]
        let n = raw.count
        func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            j < n && raw[j] >= lo && raw[j] <= hi
        }
        switch b0 {
        case 0xC2...0xDF: return cont(i + 1) ? 2 : 0
        case 0xE0: return cont(i + 1, 0xA0) && cont(i + 2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(i + 1) && cont(i + 2) ? 3 : 0
        case 0xED: return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0
        case 0xF0: return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF1...0xF3: return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF4: return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0
        default: return 0
        }
    }

    /// Whether the bytes are valid UTF-8.
    public static func isValidUTF8(_ raw: [UInt8]) -> Bool {
        var i = 0
        while i < raw.count {
            if raw[i] < 0x80 {
                i += 1
                continue
            }
            let len = sequenceLength(raw, i)
            if len == 0 { return false }
            i += len
        }
        return true
    }
}

/// Standard base64 (RFC 4648, with padding), Foundation's.
public enum Base64 {
    public static func encode(_ data: [UInt8]) -> String { Data(data).base64EncodedString() }
}

/// RFC 3339 timestamps with microseconds, in UTC.
public enum RFC3339 {
    public static func format(_ t: WallTime) -> String {
        var secs = time_t(t.seconds)
        var tm = tm()
        gmtime_r(&secs, &tm)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return
            "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(t.micros, 6))Z"
    }
}
