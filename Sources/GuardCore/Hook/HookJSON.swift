/// What the hook, the settings import and `init` need of `JSONValue` beyond reading: its kind for messages, a
/// member set in place, and Claude Code's settings layout (two-space indentation) for files it rewrites.
extension JSONValue {
    /// What this value is, for messages (`an object`, `a string` ...).
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Sets the first member named `key` of an object, or appends it; other values are left as they are.
    public mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var members) = self else { return }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append(Member(key, value))
        }
        self = .object(members)
    }

    /// The value as one line of compact JSON.
    public var compact: String { String(decoding: serialized(), as: UTF8.self) }

    /// The value indented by two spaces per level, with a final newline: the layout of Claude Code's settings.
    public var pretty: String {
        var out: [UInt8] = []
        appendPretty(to: &out, level: 0)
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses text that may start with a UTF-8 byte order mark (editors on some systems write one).
    public static func parseDocument(_ bytes: [UInt8]) -> JSONValue? {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? parse(bytes.dropFirst(3)) : parse(bytes)
    }

    private func appendPretty(to out: inout [UInt8], level: Int) {
        func newline(_ l: Int) {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * l))
        }
        switch self {
        case .array(let items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (k, v) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                v.appendPretty(to: &out, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (k, m) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                JSONWriter.appendQuoted(m.key, into: &out)
                out.append(contentsOf: ": ".utf8)
                m.value.appendPretty(to: &out, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        default:
            append(to: &out)
        }
    }
}
