import Glibc

/// Words and quoting for `ShellParser`: one shell word read into its literal value (quotes removed, escapes
/// applied) or marked unknown where it needs expansion; `"..."`, `$'...'`, `$...`/`${...}`/`$(...)`, backquotes
/// and the command substitutions they hold.
extension ShellParser {
    /// Parses one word at `p`; returns it and whether it is a `NAME=value` assignment (when allowed).
    @discardableResult
    mutating func parseWord(
        allowAssignment: Bool, pattern: Bool = false, regex: Bool = false
    ) throws -> (ShellWord, Bool) {
        let start = p
        // While every byte so far is copied verbatim from the input, the word is `b[start..<p]` and the word
        // buffer is not written; it is filled (`materialize`) before the first quote, escape or expansion.
        var verbatim = true
        @inline(__always) func materialize(_ parser: inout ShellParser) {
            if verbatim {
                verbatim = false
                parser.wbuf.removeAll(keepingCapacity: true)
                parser.wbuf.append(contentsOf: UnsafeBufferPointer(rebasing: parser.b[start..<parser.p]))
            }
        }
        var known = true
        var isAssignment = false
        var nameState = allowAssignment ? 1 : 0  // 1: reading a name, 0: not an assignment candidate
        var parenLevel = 0
        loop: while p < b.count {
            let c = b[p]
            if nameState == 1 {
                if c == 0x3D && p > start {
                    isAssignment = true
                    nameState = 0
                } else if c == 0x2B && at(p + 1) == 0x3D && p > start {
                    isAssignment = true
                    nameState = 0
                } else if c == 0x5B && p > start {
                    // NAME[index]=value
                    var k = p + 1
                    while k < b.count && b[k] != 0x5D && !ShellParser.isMeta(b[k]) { k += 1 }
                    if at(k) == 0x5D && (at(k + 1) == 0x3D || (at(k + 1) == 0x2B && at(k + 2) == 0x3D)) {
                        isAssignment = true
                    }
                    nameState = 0
                } else if !(p == start ? ShellParser.isNameStart(c) : ShellParser.isNameChar(c)) {
                    nameState = 0
                }
            }
            switch c {
            case 0x20, 0x09, 0x0A, 0x3B, 0x26, 0x7C, 0x3C, 0x3E, 0x28, 0x29:
                if (c == 0x3C || c == 0x3E) && at(p + 1) == 0x28 && !regex {
                    // <( ... ) / >( ... ) process substitution
                    materialize(&self)
                    p += 2
                    try parseSubstitutionList()
                    known = false
                    continue loop
                }
                if regex {
                    if c == 0x28 {
                        parenLevel += 1
                        if !verbatim { wbuf.append(c) }
                        p += 1
                        continue loop
                    }
                    if c == 0x29 && parenLevel > 0 {
                        parenLevel -= 1
                        if !verbatim { wbuf.append(c) }
                        p += 1
                        continue loop
                    }
                    if (c == 0x7C || c == 0x3C || c == 0x3E) && parenLevel > 0 {
                        if !verbatim { wbuf.append(c) }
                        p += 1
                        continue loop
                    }
                }
                if c == 0x28 && p > start {
                    let prev = b[p - 1]
                    if prev == 0x40 || prev == 0x21 || prev == 0x2B || prev == 0x2A || prev == 0x3F {
                        materialize(&self)
                        try copyBalancedGlob()
                        continue loop
                    }
                }
                break loop
            case 0x27:  // '
                materialize(&self)
                p += 1
                while p < b.count && b[p] != 0x27 {
                    wbuf.append(b[p])
                    p += 1
                }
                guard p < b.count else { throw Failure(message: "unterminated single quote", offset: start) }
                p += 1
            case 0x22:  // "
                materialize(&self)
                p += 1
                if try !parseDoubleQuoted() { known = false }
            case 0x5C:  // backslash
                materialize(&self)
                if p + 1 >= b.count {
                    wbuf.append(c)
                    p += 1
                } else if b[p + 1] == 0x0A {
                    p += 2
                } else {
                    wbuf.append(b[p + 1])
                    p += 2
                }
            case 0x24:  // $
                materialize(&self)
                if try !parseDollar() { known = false }
            case 0x60:  // `
                materialize(&self)
                try parseBackquote(inDouble: false)
                known = false
            default:
                // Past a possible assignment name, a run of plain bytes is copied at once.
                var q = p + 1
                if nameState == 0 {
                    while q < b.count && ShellParser.isPlain(b[q]) { q += 1 }
                }
                if !verbatim { wbuf.append(contentsOf: UnsafeBufferPointer(rebasing: b[p..<q])) }
                p = q
            }
        }
        if p == start { throw fail("expected a word but found \(describe(p))") }
        let text: String
        if known && !verbatim {
            text = String(decoding: wbuf, as: UTF8.self)
        } else {
            text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<p]), as: UTF8.self)
        }
        return (ShellWord(text: text, isKnown: known), isAssignment)
    }

    /// Copies an extended glob `@(a|b)` verbatim into the word buffer.
    mutating func copyBalancedGlob() throws {
        var level = 0
        let start = p
        while p < b.count {
            let c = b[p]
            wbuf.append(c)
            p += 1
            if c == 0x28 {
                level += 1
            } else if c == 0x29 {
                level -= 1
                if level == 0 { return }
            }
        }
        throw Failure(message: "unterminated extended glob", offset: start)
    }

    /// Parses the inside of "..." after the opening quote; returns false when the value is unknown.
    mutating func parseDoubleQuoted() throws -> Bool {
        let start = p - 1
        var known = true
        while p < b.count {
            let c = b[p]
            switch c {
            case 0x22:
                p += 1
                return known
            case 0x5C:
                let n = at(p + 1)
                if n == 0x24 || n == 0x60 || n == 0x22 || n == 0x5C {
                    wbuf.append(n)
                    p += 2
                } else if n == 0x0A {
                    p += 2
                } else {
                    wbuf.append(c)
                    p += 1
                }
            case 0x24:
                // `$'` is literal inside double quotes, and so is a `$` right before the closing quote
                // (`grep "\.java$"`): `$"..."` is a locale string only outside them.
                if at(p + 1) == 0x27 || at(p + 1) == 0x22 {
                    wbuf.append(c)
                    p += 1
                } else if try !parseDollar() {
                    known = false
                }
            case 0x60:
                try parseBackquote(inDouble: true)
                known = false
            default:
                wbuf.append(c)
                p += 1
            }
        }
        throw Failure(message: "unterminated double quote", offset: start)
    }

    /// Parses an expansion starting with `$`; returns false when its value is unknown.
    mutating func parseDollar() throws -> Bool {
        let n = at(p + 1)
        switch n {
        case 0x27:  // $'...'
            p += 2
            try parseAnsiC()
            return true
        case 0x22:  // $"..."
            p += 2
            return try parseDoubleQuoted()
        case 0x28:
            if at(p + 2) == 0x28 {
                p += 1
                try skipArithmetic(open: 2)
                return false
            }
            p += 2
            try parseSubstitutionList()
            return false
        case 0x7B:
            p += 2
            try skipParameter()
            return false
        case 0x5B where closingBracket(from: p + 2) != nil:  // bash's old arithmetic `$[ ... ]`
            p = (closingBracket(from: p + 2) ?? p) + 1
            return false
        default:
            if ShellParser.isNameStart(n) {
                p += 2
                while p < b.count && ShellParser.isNameChar(b[p]) { p += 1 }
                return false
            }
            if (n >= 0x30 && n <= 0x39) || n == 0x40 || n == 0x2A || n == 0x23 || n == 0x3F || n == 0x24
                || n == 0x21 || n == 0x2D
            {
                p += 2
                return false
            }
            wbuf.append(0x24)
            p += 1
            return true
        }
    }

    /// The offset of the `]` closing a `[` opened just before `from`, on the same line; nil when there is none.
    func closingBracket(from: Int) -> Int? {
        var level = 1
        var i = from
        while i < b.count && b[i] != 0x0A {
            if b[i] == 0x5B {
                level += 1
            } else if b[i] == 0x5D {
                level -= 1
                if level == 0 { return i }
            }
            i += 1
        }
        return nil
    }

    /// Parses the commands of `$( ... )` / `<( ... )` after the opening parenthesis, through the closing one.
    mutating func parseSubstitutionList() throws {
        let open = p
        try enter()
        defer { depth -= 1 }
        let savedWord = wbuf
        let savedSub = inSubstitution
        inSubstitution = true
        try parseList(stopAtParen: true)
        try skipNewlines()
        inSubstitution = savedSub
        wbuf = savedWord
        guard cur == 0x29 else {
            throw Failure(message: "expected ')' to close '$(' but found \(describe(p))", offset: open)
        }
        p += 1
    }

    /// Skips `${ ... }` after the opening brace, parsing substitutions inside it.
    mutating func skipParameter() throws {
        let open = p
        let saved = wbuf
        defer { wbuf = saved }
        var level = 1
        while p < b.count {
            let c = b[p]
            switch c {
            case 0x7D:
                level -= 1
                p += 1
                if level == 0 { return }
            case 0x7B:
                level += 1
                p += 1
            case 0x5C:
                p += 2
            case 0x27:
                p += 1
                while p < b.count && b[p] != 0x27 { p += 1 }
                p += 1
            case 0x22:
                p += 1
                _ = try parseDoubleQuoted()
            case 0x24:
                if at(p + 1) == 0x7B {
                    p += 2
                    level += 1
                } else {
                    _ = try parseDollar()
                }
            case 0x60:
                try parseBackquote(inDouble: false)
            default:
                p += 1
            }
        }
        throw Failure(message: "unterminated '${'", offset: open - 2)
    }

    /// Parses `$'...'` after the opening quote, decoding ANSI-C escapes.
    mutating func parseAnsiC() throws {
        let start = p - 2
        while p < b.count {
            let c = b[p]
            if c == 0x27 {
                p += 1
                return
            }
            if c != 0x5C {
                wbuf.append(c)
                p += 1
                continue
            }
            let e = at(p + 1)
            p += 2
            switch e {
            case 0x61: wbuf.append(0x07)
            case 0x62: wbuf.append(0x08)
            case 0x65, 0x45: wbuf.append(0x1B)
            case 0x66: wbuf.append(0x0C)
            case 0x6E: wbuf.append(0x0A)
            case 0x72: wbuf.append(0x0D)
            case 0x74: wbuf.append(0x09)
            case 0x76: wbuf.append(0x0B)
            case 0x5C, 0x27, 0x22, 0x3F: wbuf.append(e)
            case 0x30...0x37:
                var v = UInt32(e - 0x30)
                var k = 0
                while k < 2, p < b.count, b[p] >= 0x30, b[p] <= 0x37 {
                    v = v * 8 + UInt32(b[p] - 0x30)
                    p += 1
                    k += 1
                }
                wbuf.append(UInt8(truncatingIfNeeded: v))
            case 0x78, 0x75, 0x55:
                let maxDigits = e == 0x78 ? 2 : (e == 0x75 ? 4 : 8)
                var v: UInt32 = 0
                var k = 0
                while k < maxDigits, p < b.count, let d = ShellParser.hexValue(b[p]) {
                    v = v &* 16 &+ UInt32(d)
                    p += 1
                    k += 1
                }
                if k == 0 {
                    wbuf.append(0x5C)
                    wbuf.append(e)
                } else if e == 0x78 {
                    wbuf.append(UInt8(truncatingIfNeeded: v))
                } else if let scalar = Unicode.Scalar(v) {
                    wbuf.append(contentsOf: Array(String(Character(scalar)).utf8))
                }
            case 0x63:
                if p < b.count {
                    wbuf.append(b[p] & 0x1F)
                    p += 1
                }
            case 0:
                throw Failure(message: "unterminated $'", offset: start)
            default:
                wbuf.append(0x5C)
                wbuf.append(e)
            }
        }
        throw Failure(message: "unterminated $'", offset: start)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Parses a backquoted command substitution at `p`: unescapes its text and parses it as a script.
    mutating func parseBackquote(inDouble: Bool) throws {
        let open = p
        p += 1
        var inner: [UInt8] = []
        while p < b.count && b[p] != 0x60 {
            let c = b[p]
            if c == 0x5C, p + 1 < b.count {
                let n = b[p + 1]
                if n == 0x60 || n == 0x5C || n == 0x24 || (inDouble && n == 0x22) {
                    inner.append(n)
                    p += 2
                    continue
                }
            }
            inner.append(c)
            p += 1
        }
        guard p < b.count else { throw Failure(message: "unterminated backquote", offset: open) }
        p += 1
        try enter()
        defer { depth -= 1 }
        let innerDepth = depth
        let base = baseOffset + open + 1
        let sub: ShellScript = inner.withUnsafeBufferPointer { buf in
            var parser = ShellParser(buf, depth: innerDepth, inSubstitution: true, baseOffset: base)
            parser.run()
            return parser.out
        }
        let shift = out.commands.count
        out.commands.append(contentsOf: sub.commands)
        for pl in sub.pipelines {
            out.pipelines.append(ShellPipeline(stages: pl.stages.map { $0.map { $0 + shift } }))
        }
        if let e = sub.error { throw Failure(message: e.message, offset: e.offset - baseOffset) }
    }
}
