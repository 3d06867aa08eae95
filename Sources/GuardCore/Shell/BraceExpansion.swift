/// Bash brace expansion of one unquoted word: `pre{a,b}post` → `preapost prebpost`, nested lists, and
/// sequences `{1..5}`, `{01..10..3}`, `{a..e}`. A `{` without a matching `}`, or with neither a top-level comma
/// nor a valid sequence inside, stays a literal brace, as in bash.
///
/// Written by hand: no library expands brace syntax, and the guard must see `{rm,-rf,/}` as the three words bash
/// runs. The result is bounded (`limit` words); a word that would expand to more gives nil.
enum BraceExpansion {
    static let limit = 4096

    /// The words `word` expands to, or nil when it expands to itself or to more than `limit` words.
    static func expand(_ word: String) -> [String]? {
        let b = Array(word.utf8)
        guard b.contains(0x7B), let words = expand(b[...]), words.count != 1 || words[0] != b else { return nil }
        // Empty words an expansion leaves (`{,}`) are removed, as bash removes them.
        return words.filter { !$0.isEmpty }.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func expand(_ b: ArraySlice<UInt8>) -> [[UInt8]]? {
        var i = b.startIndex
        while i < b.endIndex {
            guard b[i] == 0x7B, let close = matchingClose(b, from: i) else {
                i += 1
                continue
            }
            let inner = b[(i + 1)..<close]
            var alternatives: [[UInt8]] = []
            let commas = topLevelCommas(inner)
            if !commas.isEmpty {
                var start = inner.startIndex
                for c in commas + [inner.endIndex] {
                    guard let parts = expand(inner[start..<c]) else { return nil }
                    alternatives += parts
                    start = c + 1
                }
            } else if let seq = sequence(inner) {
                alternatives = seq
            } else {
                i += 1
                continue
            }
            guard let posts = expand(b[(close + 1)...]) else { return nil }
            if alternatives.count * posts.count > limit { return nil }
            let pre = b[b.startIndex..<i]
            var out: [[UInt8]] = []
            out.reserveCapacity(alternatives.count * posts.count)
            for a in alternatives {
                for p in posts { out.append(Array(pre) + a + p) }
            }
            return out
        }
        return [Array(b)]
    }

    /// The `}` that closes the `{` at `open`, nested braces counted.
    private static func matchingClose(_ b: ArraySlice<UInt8>, from open: Int) -> Int? {
        var depth = 0
        for j in open..<b.endIndex {
            if b[j] == 0x7B {
                depth += 1
            } else if b[j] == 0x7D {
                depth -= 1
                if depth == 0 { return j }
            }
        }
        return nil
    }

    private static func topLevelCommas(_ b: ArraySlice<UInt8>) -> [Int] {
        var depth = 0
        var out: [Int] = []
        for j in b.indices {
            switch b[j] {
            case 0x7B: depth += 1
            case 0x7D: depth -= 1
            case 0x2C where depth == 0: out.append(j)
            default: break
            }
        }
        return out
    }

    /// `x..y` or `x..y..step` over integers (zero-padded when either end is written with a leading zero) or
    /// single letters; nil when `b` is not such a sequence or it is longer than `limit`.
    private static func sequence(_ b: ArraySlice<UInt8>) -> [[UInt8]]? {
        let parts = String(decoding: b, as: UTF8.self).components(separatedBy: "..")
        guard parts.count == 2 || parts.count == 3 else { return nil }
        var step = 1
        if parts.count == 3 {
            guard let s = Int(parts[2]), s != 0 else { return nil }
            step = abs(s)
        }
        if let x = Int(parts[0]), let y = Int(parts[1]) {
            let count = abs(y - x) / step + 1
            guard count <= limit else { return nil }
            func padded(_ s: String) -> Bool { s.hasPrefix("0") && s.count > 1 || s.hasPrefix("-0") }
            let width = padded(parts[0]) || padded(parts[1]) ? max(parts[0].count, parts[1].count) : 0
            var out: [[UInt8]] = []
            var v = x
            for _ in 0..<count {
                var s = String(abs(v))
                let sign = v < 0 ? "-" : ""
                if width > 0 { while s.count + sign.count < width { s = "0" + s } }
                out.append(Array((sign + s).utf8))
                v += x <= y ? step : -step
            }
            return out
        }
        let a = Array(parts[0].utf8), z = Array(parts[1].utf8)
        guard a.count == 1, z.count == 1, isLetter(a[0]), isLetter(z[0]) else { return nil }
        var out: [[UInt8]] = []
        var c = Int(a[0])
        let end = Int(z[0])
        while true {
            out.append([UInt8(c)])
            if c == end { break }
            c += c < end ? step : -step
            if (c > end) == (Int(a[0]) < end) && c != end { break }
        }
        return out
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
}
