/// Removes credentials from what the HTTPS capture reports: header values, API-key-looking tokens in text,
/// values of secret-named keys in JSON, `NAME_KEY=value` assignments in command lines.
///
/// Applied when an event is written, never to what linking compares (a command is matched as the model wrote
/// it, and shown redacted).
public enum Redaction {
    public static let marker = "[REDACTED]"

    /// Headers whose whole value is a credential (names compared in lower case).
    static let credentialHeaders: Set<String> = [
        "authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie",
        "x-auth-token", "x-amz-security-token", "openai-organization", "anthropic-admin-key",
    ]

    /// A header's value as it may be shown: credentials replaced, an auth scheme (`Bearer`, `Basic`) kept.
    public static func header(name: String, value: String) -> String {
        let lower = name.lowercased()
        guard credentialHeaders.contains(lower) else { return text(value) }
        if lower.hasSuffix("authorization"), let sp = value.firstIndex(of: " ") {
            return String(value[..<sp]) + " " + marker
        }
        return marker
    }

    /// A known token prefix and the fewest token characters that must follow it.
    private struct TokenPattern {
        let prefix: [UInt8]
        let minRest: Int
    }

    /// Prefixes of provider keys and tokens (Anthropic, OpenAI, AWS, GitHub, GitLab, Slack, Google, Hugging
    /// Face, npm, JWTs).
    private static let patterns: [TokenPattern] = [
        ("sk-", 20), ("AKIA", 16), ("ASIA", 16), ("ghp_", 30), ("gho_", 30), ("ghu_", 30), ("ghs_", 30),
        ("ghr_", 30), ("github_pat_", 30), ("glpat-", 20), ("xoxb-", 20), ("xoxp-", 20), ("xoxa-", 20),
        ("xoxs-", 20), ("AIza", 30), ("hf_", 30), ("npm_", 30), ("eyJ", 30),
    ].map { TokenPattern(prefix: Array($0.0.utf8), minRest: $0.1) }

    @inline(__always)
    private static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
            || b == UInt8(ascii: ".")
    }

    /// Suffixes of variable and key names whose value is a secret (compared upper-cased, `-` as `_`).
    private static let secretNameSuffixes = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIALS"]

    /// Text with API-key-looking tokens and `SECRET_NAME=value` values replaced by the marker.
    public static func text(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var changed = false
        var i = 0
        out.reserveCapacity(b.count)
        while i < b.count {
            let atBoundary = i == 0 || !isTokenByte(b[i - 1])
            if atBoundary, let end = tokenEnd(b, i) {
                out.append(contentsOf: marker.utf8)
                i = end
                changed = true
                continue
            }
            if b[i] == UInt8(ascii: "="), let (start, end) = assignedValue(b, i) {
                out.append(contentsOf: b[i..<start])
                out.append(contentsOf: marker.utf8)
                i = end
                changed = true
                continue
            }
            out.append(b[i])
            i += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : s
    }

    /// End of a known token starting at i, if one does.
    private static func tokenEnd(_ b: [UInt8], _ i: Int) -> Int? {
        for p in patterns where b.count - i >= p.prefix.count + p.minRest {
            guard b[i..<(i + p.prefix.count)].elementsEqual(p.prefix) else { continue }
            var j = i + p.prefix.count
            while j < b.count && isTokenByte(b[j]) { j += 1 }
            if j - i - p.prefix.count >= p.minRest { return j }
        }
        return nil
    }

    /// For `=` at i preceded by a secret-looking name (`ANTHROPIC_API_KEY=`), where the value after it starts
    /// (past an opening quote) and ends.
    private static func assignedValue(_ b: [UInt8], _ i: Int) -> (Int, Int)? {
        var s = i
        while s > 0 && isTokenByte(b[s - 1]) && b[s - 1] != UInt8(ascii: ".") { s -= 1 }
        guard s < i else { return nil }
        let name = underscored(String(decoding: b[s..<i], as: UTF8.self))
        guard secretNameSuffixes.contains(where: { name.hasSuffix($0) }) else { return nil }
        var j = i + 1
        let quote = j < b.count && (b[j] == UInt8(ascii: "'") || b[j] == UInt8(ascii: "\"")) ? b[j] : nil
        if quote != nil { j += 1 }
        let start = j
        while j < b.count {
            if let q = quote, b[j] == q { break }
            if quote == nil
                && (b[j] == ASCII.space || b[j] == ASCII.tab || b[j] == ASCII.lf || b[j] == ASCII.semicolon
                    || b[j] == UInt8(ascii: "&") || b[j] == UInt8(ascii: "|"))
            {
                break
            }
            j += 1
        }
        return j > start ? (start, j) : nil
    }

    /// Upper case, `-` as `_`: the form names are compared in.
    private static func underscored(_ name: String) -> String {
        String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// Whether a JSON key names a secret (`api_key`, `password`, `client_secret`, `access_token` …).
    static func isSecretKey(_ key: String) -> Bool {
        let k = underscored(key)
        return secretNameSuffixes.contains { k.hasSuffix($0) } || k == "AUTHORIZATION" || k == "COOKIE"
    }

    /// A JSON value with string values of secret-named keys replaced, and every string passed through `text`.
    public static func json(_ v: JSONValue) -> JSONValue {
        switch v {
        case .string(let s): return .string(text(s))
        case .array(let items): return .array(items.map(json))
        case .object(let members):
            return .object(
                members.map { m in
                    if case .string = m.value, isSecretKey(m.key) { return JSONValue.Member(m.key, .string(marker)) }
                    return JSONValue.Member(m.key, json(m.value))
                })
        default: return v
        }
    }
}
