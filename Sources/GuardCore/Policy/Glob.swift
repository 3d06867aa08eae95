#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A compiled glob pattern over UTF-8 bytes: `*`, `?`, `[...]` (ranges, `!`/`^` negation, `[:class:]`), `**`,
/// and `\` escapes.
///
/// In path mode (`command` names with `/`, `paths` prefixes) `*` and `?` do not match `/` while `**` does, and
/// `**/` also matches no directory at all. Elsewhere (`args`, `cmdline`) `*` matches any text, `/` included.
/// Matching simulates the pattern as an automaton: time is linear in the text times the pattern length, with no
/// backtracking blow-up whatever the input.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case byte(UInt8)
        case any
        case set(ByteSet, negated: Bool)
        case star
        /// `**`; `skipsSlash` when written as `**/`, so that the following `/` may be absent.
        case globstar(skipsSlash: Bool)
    }

    struct ByteSet: Sendable, Hashable {
        var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0

        mutating func insert(_ c: UInt8) {
            let bit = UInt64(1) << UInt64(c & 63)
            switch c >> 6 {
            case 0: w0 |= bit
            case 1: w1 |= bit
            case 2: w2 |= bit
            default: w3 |= bit
            }
        }

        var isEmpty: Bool { w0 | w1 | w2 | w3 == 0 }

        func contains(_ c: UInt8) -> Bool {
            let bit = UInt64(1) << UInt64(c & 63)
            switch c >> 6 {
            case 0: return w0 & bit != 0
            case 1: return w1 & bit != 0
            case 2: return w2 & bit != 0
            default: return w3 & bit != 0
            }
        }
    }

    enum Shape: Sendable, Hashable {
        case literal([UInt8])
        case prefix([UInt8])
        case suffix([UInt8])
        case general
    }

    /// The compiled pattern, shared: a `Glob` is copied once per rule tried, and a copy is then one retain
    /// rather than one per array and string.
    final class Storage: Sendable {
        let pattern: String
        let pathMode: Bool
        let tokens: [Token]
        let shape: Shape
        let required: [UInt8]
        /// The pattern has a `/` (or is in path mode): it can be meant for a path.
        let namesPaths: Bool
        /// A literal byte every match contains that is neither a letter nor a digit (rare in text: found by
        /// `memchr` before anything else is tried); 0 when there is none.
        let rareByte: UInt8

        init(pattern: String, pathMode: Bool, tokens: [Token], shape: Shape, required: [UInt8]) {
            self.pattern = pattern
            self.pathMode = pathMode
            self.namesPaths = pathMode || pattern.utf8.contains(0x2F)
            self.tokens = tokens
            self.shape = shape
            self.required = required
            var rare: UInt8 = 0
            var optionalSlash = false
            for t in tokens {
                if case .byte(let c) = t, !(optionalSlash && c == 0x2F),
                    !((c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A)), c != 0
                {
                    rare = c
                    break
                }
                if case .globstar(let skips) = t { optionalSlash = skips } else { optionalSlash = false }
            }
            rareByte = rare
        }
    }

    let storage: Storage

    /// The pattern as written.
    public var pattern: String { storage.pattern }
    /// Whether `*` and `?` stop at `/`.
    public var pathMode: Bool { storage.pathMode }
    /// Whether the pattern has a `/` or is in path mode: it can be meant for a path.
    var namesPaths: Bool { storage.namesPaths }
    var tokens: [Token] { storage.tokens }
    var shape: Shape { storage.shape }
    /// The longest run of literal bytes every match contains: a cheap test before running the automaton.
    var required: [UInt8] { storage.required }

    public static func == (a: Glob, b: Glob) -> Bool { a.pattern == b.pattern && a.pathMode == b.pathMode }

    public func hash(into h: inout Hasher) {
        h.combine(pattern)
        h.combine(pathMode)
    }

    /// Why a pattern is not a valid glob.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Compiles `pattern`.
    ///
    /// - Throws: `Glob.SyntaxError` for an unterminated `[`, an empty `[]`, an unknown `[:class:]` or a trailing `\`.
    public init(_ pattern: String, pathMode: Bool = false) throws {
        let b = Array(pattern.utf8)
        var tokens: [Token] = []
        var i = 0
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x2A:  // *
                if i + 1 < b.count && b[i + 1] == 0x2A {
                    var j = i
                    while j < b.count && b[j] == 0x2A { j += 1 }
                    let slash = j < b.count && b[j] == 0x2F
                    tokens.append(.globstar(skipsSlash: slash))
                    i = j
                } else {
                    if case .star = tokens.last {} else { tokens.append(.star) }
                    i += 1
                }
            case 0x3F:
                tokens.append(.any)
                i += 1
            case 0x5C:
                guard i + 1 < b.count else {
                    throw SyntaxError(description: "the pattern ends with a lone '\\'; write '\\\\' for a backslash")
                }
                tokens.append(.byte(b[i + 1]))
                i += 2
            case 0x5B:
                var j = i + 1
                var negated = false
                if j < b.count && (b[j] == 0x21 || b[j] == 0x5E) {
                    negated = true
                    j += 1
                }
                var set = ByteSet()
                var first = true
                var closed = false
                while j < b.count {
                    let d = b[j]
                    if d == 0x5D && !first {
                        closed = true
                        j += 1
                        break
                    }
                    first = false
                    if d == 0x5B && j + 1 < b.count && b[j + 1] == 0x3A {
                        guard let end = Glob.find([0x3A, 0x5D], in: b, from: j + 2) else {
                            throw SyntaxError(description: "'[:' without ':]'; write a class like [[:digit:]]")
                        }
                        let name = String(decoding: b[(j + 2)..<end], as: UTF8.self)
                        guard Glob.addClass(name, to: &set) else {
                            throw SyntaxError(
                                description:
                                    "unknown character class '[:\(name):]'; use alpha, digit, alnum, upper, lower, space, punct or xdigit"
                            )
                        }
                        j = end + 2
                        continue
                    }
                    var lo = d
                    if d == 0x5C && j + 1 < b.count {
                        lo = b[j + 1]
                        j += 1
                    }
                    if j + 2 < b.count && b[j + 1] == 0x2D && b[j + 2] != 0x5D {
                        let hi = b[j + 2]
                        guard lo <= hi else {
                            throw SyntaxError(
                                description:
                                    "range '\(Character(Unicode.Scalar(lo)))-\(Character(Unicode.Scalar(hi)))' is backwards; write the smaller end first"
                            )
                        }
                        for x in lo...hi { set.insert(x) }
                        j += 3
                    } else {
                        set.insert(lo)
                        j += 1
                    }
                }
                guard closed else {
                    throw SyntaxError(
                        description: "'[' is never closed; write ']' to end the set, or '\\[' for a bracket")
                }
                tokens.append(.set(set, negated: negated))
                i = j
            default:
                tokens.append(.byte(c))
                i += 1
            }
        }
        var best: [UInt8] = []
        var run: [UInt8] = []
        var optionalSlash = false  // the `/` of `**/` may be absent: not part of a required literal
        for t in tokens {
            if case .byte(let c) = t, !(optionalSlash && c == 0x2F) {
                run.append(c)
                optionalSlash = false
            } else {
                if case .globstar(let skips) = t { optionalSlash = skips } else { optionalSlash = false }
                if run.count > best.count { best = run }
                run = []
            }
        }
        if run.count > best.count { best = run }
        storage = Storage(
            pattern: pattern, pathMode: pathMode, tokens: tokens, shape: Glob.classify(tokens),
            required: best)
    }

    /// Whether `needle` occurs in `hay` (`memchr` for its first byte, then `memcmp`).
    static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        let n = needle.count
        if n == 0 { return true }
        guard hay.count >= n, let base = hay.baseAddress else { return false }
        return needle.withUnsafeBufferPointer { nd -> Bool in
            guard let nb = nd.baseAddress else { return false }
            let first = Int32(nb[0])
            let end = base + (hay.count - n + 1)
            var p = base
            while p < end {
                guard let hit = memchr(p, first, end - p) else { return false }
                let q = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self))
                if n == 1 || memcmp(q + 1, nb + 1, n - 1) == 0 { return true }
                p = q + 1
            }
            return false
        }
    }

    private static func find(_ needle: [UInt8], in b: [UInt8], from: Int) -> Int? {
        var i = from
        while i + needle.count <= b.count {
            if b[i] == needle[0] && b[i + 1] == needle[1] { return i }
            i += 1
        }
        return nil
    }

    private static func addClass(_ name: String, to set: inout ByteSet) -> Bool {
        let ranges: [ClosedRange<UInt8>]
        switch name {
        case "alpha": ranges = [0x41...0x5A, 0x61...0x7A]
        case "digit": ranges = [0x30...0x39]
        case "alnum": ranges = [0x30...0x39, 0x41...0x5A, 0x61...0x7A]
        case "upper": ranges = [0x41...0x5A]
        case "lower": ranges = [0x61...0x7A]
        case "space": ranges = [0x09...0x0D, 0x20...0x20]
        case "punct": ranges = [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]
        case "xdigit": ranges = [0x30...0x39, 0x41...0x46, 0x61...0x66]
        default: return false
        }
        for r in ranges { for c in r { set.insert(c) } }
        return true
    }

    private static func classify(_ tokens: [Token]) -> Shape {
        var lits: [UInt8] = []
        var stars = 0
        var starAtEnd = false
        var starAtStart = false
        for (k, t) in tokens.enumerated() {
            switch t {
            case .byte(let c): lits.append(c)
            case .star, .globstar:
                stars += 1
                if k == 0 { starAtStart = true }
                if k == tokens.count - 1 { starAtEnd = true }
            default: return .general
            }
        }
        if stars == 0 { return .literal(lits) }
        if stars == 1 {
            if starAtEnd, case .star? = tokens.last { return .prefix(lits) }
            if starAtStart, case .star? = tokens.first { return .suffix(lits) }
        }
        return .general
    }

    /// Whether the pattern has any wildcard (else it is a plain string).
    public var isLiteral: Bool {
        if case .literal = shape { return true }
        return false
    }

    public var description: String { pattern }

    /// Whether the whole of `text` matches.
    public func matches(_ text: String) -> Bool {
        var t = text
        return t.withUTF8 { matches(bytes: $0) }
    }

    /// Whether the whole of `bytes` matches.
    public func matches(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch shape {
        case .literal(let l):
            return l.count == bytes.count && l.withUnsafeBufferPointer { memEqual($0, bytes, 0) }
        case .prefix(let l):
            guard bytes.count >= l.count, l.withUnsafeBufferPointer({ memEqual($0, bytes, 0) }) else { return false }
            if pathMode {
                for k in l.count..<bytes.count where bytes[k] == 0x2F { return false }
            }
            return true
        case .suffix(let l):
            guard bytes.count >= l.count,
                l.withUnsafeBufferPointer({ memEqual($0, bytes, bytes.count - l.count) })
            else { return false }
            if pathMode {
                for k in 0..<(bytes.count - l.count) where bytes[k] == 0x2F { return false }
            }
            return true
        case .general:
            let rare = storage.rareByte
            if rare != 0, let base = bytes.baseAddress, memchr(base, Int32(rare), bytes.count) == nil { return false }
            if !required.isEmpty && !Glob.contains(bytes, required) { return false }
            return simulate(bytes)
        }
    }

    @inline(__always) private func memEqual(
        _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, _ at: Int
    ) -> Bool {
        for k in 0..<a.count where a[k] != b[at + k] { return false }
        return true
    }

    /// Runs the pattern as a nondeterministic automaton over the text (state k: k tokens matched); the two
    /// state sets live on the stack and the tokens are read through a borrowed buffer.
    private func simulate(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let m = tokens.count
        return tokens.withUnsafeBufferPointer { tk in
            withUnsafeTemporaryAllocation(of: Bool.self, capacity: 2 * (m + 1)) { states in
                var cur = UnsafeMutableBufferPointer(rebasing: states[0..<(m + 1)])
                var next = UnsafeMutableBufferPointer(rebasing: states[(m + 1)...])
                cur.initialize(repeating: false)
                next.initialize(repeating: false)
                cur[0] = true
                Glob.close(cur, tk)
                let pathMode = self.pathMode
                for c in text {
                    var any = false
                    for k in 0..<(m + 1) { next[k] = false }
                    for k in 0..<m where cur[k] {
                        switch tk[k] {
                        case .byte(let x):
                            if x == c {
                                next[k + 1] = true
                                any = true
                            }
                        case .any:
                            if !(pathMode && c == 0x2F) {
                                next[k + 1] = true
                                any = true
                            }
                        case .set(let s, let negated):
                            if s.contains(c) != negated && !(pathMode && c == 0x2F) {
                                next[k + 1] = true
                                any = true
                            }
                        case .star:
                            if !(pathMode && c == 0x2F) {
                                next[k] = true
                                any = true
                            }
                        case .globstar:
                            next[k] = true
                            any = true
                        }
                    }
                    if !any { return false }
                    swap(&cur, &next)
                    Glob.close(cur, tk)
                }
                return cur[m]
            }
        }
    }

    /// Adds the states reachable without reading a byte (a star may match nothing).
    private static func close(_ s: UnsafeMutableBufferPointer<Bool>, _ tokens: UnsafeBufferPointer<Token>) {
        let m = tokens.count
        for k in 0..<m where s[k] {
            switch tokens[k] {
            case .star:
                s[k + 1] = true
            case .globstar(let skipsSlash):
                s[k + 1] = true
                if skipsSlash && k + 2 <= m { s[k + 2] = true }
            default: break
            }
        }
    }
}
