import Glibc

/// The byte level of `ShellParser`: reading bytes and blanks, newlines and the here-document bodies they release,
/// expansions scanned inside a word, and redirections with their here-document delimiters.
extension ShellParser {
    @inline(__always) func at(_ i: Int) -> UInt8 { i < b.count ? b[i] : 0 }
    @inline(__always) var cur: UInt8 { p < b.count ? b[p] : 0 }

    /// Bytes that stand for themselves in an unquoted word: not a metacharacter, quote, `\\`, `$` or backquote.
    @inline(__always) static func isPlain(_ c: UInt8) -> Bool {
        // Bits of the bytes below 0x80 that are not plain: tab nl sp " $ & ' ( ) ; < > \\ ` |
        let low: UInt64 =
            (1 << 0x09) | (1 << 0x0A) | (1 << 0x20) | (1 << 0x22) | (1 << 0x24) | (1 << 0x26)
            | (1 << 0x27) | (1 << 0x28) | (1 << 0x29) | (1 << 0x3B) | (1 << 0x3C) | (1 << 0x3E)
        let high: UInt64 = (1 << (0x5C - 64)) | (1 << (0x60 - 64)) | (1 << (0x7C - 64))
        if c < 64 { return low & (1 << UInt64(c)) == 0 }
        if c < 128 { return high & (1 << UInt64(c - 64)) == 0 }
        return true
    }

    @inline(__always) static func isMeta(_ c: UInt8) -> Bool {
        switch c {
        case 0x20, 0x09, 0x0A, 0x3B, 0x26, 0x7C, 0x3C, 0x3E, 0x28, 0x29: return true  // sp tab nl ; & | < > ( )
        default: return false
        }
    }

    @inline(__always) static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    @inline(__always) static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= 0x30 && c <= 0x39)
    }

    func describe(_ i: Int) -> String {
        if i >= b.count { return "end of text" }
        let c = b[i]
        if c == 0x0A { return "newline" }
        if c < 0x20 || c >= 0x7F { return "byte 0x\(String(c, radix: 16))" }
        return "'\(Character(Unicode.Scalar(c)))'"
    }

    func fail(_ message: String) -> Failure { Failure(message: message, offset: p) }

    mutating func enter() throws {
        depth += 1
        if depth > ShellParser.maxDepth {
            throw fail("nesting deeper than \(ShellParser.maxDepth) levels")
        }
    }

    /// Skips blanks, line continuations and comments; stops at a newline.
    mutating func skipBlanks() {
        while p < b.count {
            let c = b[p]
            if c == 0x20 || c == 0x09 || c == 0x0D {
                p += 1
            } else if c == 0x5C && at(p + 1) == 0x0A {
                p += 2
            } else if c == 0x23 {  // '#': comment to end of line
                while p < b.count && b[p] != 0x0A { p += 1 }
            } else {
                return
            }
        }
    }

    /// Consumes one newline and reads the bodies of here-documents started on the line it ends.
    mutating func consumeNewline() throws {
        p += 1
        if !pending.isEmpty { try readHeredocBodies() }
    }

    mutating func skipNewlines() throws {
        while true {
            skipBlanks()
            if cur == 0x0A && p < b.count { try consumeNewline() } else { return }
        }
    }

    mutating func readHeredocBodies() throws {
        let docs = pending
        pending.removeAll()
        heredocReads += 1
        for doc in docs {
            let bodyStart = p
            var bodyEnd = b.count
            while p < b.count {
                var lineStart = p
                var lineEnd = p
                while lineEnd < b.count && b[lineEnd] != 0x0A { lineEnd += 1 }
                if doc.stripTabs { while lineStart < lineEnd && b[lineStart] == 0x09 { lineStart += 1 } }
                var matches = lineEnd - lineStart == doc.delimiter.count
                if matches {
                    for k in 0..<doc.delimiter.count where b[lineStart + k] != doc.delimiter[k] {
                        matches = false
                        break
                    }
                }
                if matches {
                    bodyEnd = p
                    p = lineEnd < b.count ? lineEnd + 1 : lineEnd
                    break
                }
                p = lineEnd < b.count ? lineEnd + 1 : lineEnd
            }
            if let c = doc.command, c < out.commands.count, doc.redirection < out.commands[c].redirections.count {
                out.commands[c].redirections[doc.redirection].body = String(
                    decoding: UnsafeBufferPointer(rebasing: b[bodyStart..<max(bodyStart, bodyEnd)]), as: UTF8.self)
            }
            if doc.expands && bodyEnd > bodyStart {
                try scanExpansions(bodyStart, bodyEnd)
            }
        }
    }

    /// Finds `$(...)` and backticks in an unquoted here-document body and parses the commands inside.
    mutating func scanExpansions(_ start: Int, _ end: Int) throws {
        let saved = p
        defer { p = saved }
        p = start
        while p < end {
            let c = b[p]
            if c == 0x5C {
                p += 2
            } else if c == 0x24 && at(p + 1) == 0x28 && at(p + 2) != 0x28 {
                wbuf.removeAll(keepingCapacity: true)
                _ = try parseDollar()
            } else if c == 0x60 {
                wbuf.removeAll(keepingCapacity: true)
                try parseBackquote(inDouble: true)
            } else {
                p += 1
            }
        }
    }

    // MARK: - Redirections and here-documents

    /// Parses a redirection at `p` if there is one.
    mutating func tryRedirection(into result: inout ShellRedirection?) throws -> Bool {
        let start = p
        var q = p
        var fd: Int?
        if q < b.count && b[q] >= 0x30 && b[q] <= 0x39 {
            var n = 0
            while q < b.count && b[q] >= 0x30 && b[q] <= 0x39 && n < 100_000 {
                n = n * 10 + Int(b[q] - 0x30)
                q += 1
            }
            if q >= b.count || (b[q] != 0x3C && b[q] != 0x3E) { return false }
            fd = n
        } else if q < b.count && b[q] == 0x7B {  // {var}>
            var k = q + 1
            while k < b.count && ShellParser.isNameChar(b[k]) { k += 1 }
            if k > q + 1 && at(k) == 0x7D && (at(k + 1) == 0x3C || at(k + 1) == 0x3E) {
                q = k + 1
            } else {
                return false
            }
        }
        let c = at(q)
        var op: StaticString
        if c == 0x3C {  // <
            let n = at(q + 1)
            if n == 0x28 && fd == nil && q == start { return false }  // <( process substitution
            if n == 0x3C {
                if at(q + 2) == 0x3C {
                    op = "<<<"
                } else if at(q + 2) == 0x2D {
                    op = "<<-"
                } else {
                    op = "<<"
                }
            } else if n == 0x26 {
                op = "<&"
            } else if n == 0x3E {
                op = "<>"
            } else {
                op = "<"
            }
        } else if c == 0x3E {  // >
            let n = at(q + 1)
            if n == 0x28 && fd == nil && q == start { return false }  // >( process substitution
            if n == 0x3E {
                op = ">>"
            } else if n == 0x26 {
                op = ">&"
            } else if n == 0x7C {
                op = ">|"
            } else {
                op = ">"
            }
        } else if c == 0x26 && at(q + 1) == 0x3E && fd == nil && q == start {
            op = at(q + 2) == 0x3E ? "&>>" : "&>"
        } else {
            return false
        }
        p = q + op.utf8CodeUnitCount
        skipBlanks()
        if p >= b.count || (ShellParser.isMeta(b[p]) && !((b[p] == 0x3C || b[p] == 0x3E) && at(p + 1) == 0x28)) {
            throw fail("expected a word after redirection '\(op)' but found \(describe(p))")
        }
        let opString = op.description
        if opString == "<<" || opString == "<<-" {
            let (delimiter, quoted) = try parseHeredocDelimiter()
            pending.append(
                PendingHeredoc(delimiter: delimiter, stripTabs: opString == "<<-", expands: !quoted, command: nil))
            result = ShellRedirection(
                op: opString, fd: fd, target: ShellWord(text: String(decoding: delimiter, as: UTF8.self), isKnown: true)
            )
            return true
        }
        let (word, _) = try parseWord(allowAssignment: false)
        result = ShellRedirection(op: opString, fd: fd, target: word)
        return true
    }

    mutating func parseHeredocDelimiter() throws -> ([UInt8], Bool) {
        var d: [UInt8] = []
        var quoted = false
        while p < b.count && !ShellParser.isMeta(b[p]) {
            let c = b[p]
            if c == 0x27 || c == 0x22 {
                quoted = true
                p += 1
                while p < b.count && b[p] != c {
                    d.append(b[p])
                    p += 1
                }
                guard p < b.count else { throw fail("unterminated quote in here-document delimiter") }
                p += 1
            } else if c == 0x5C {
                quoted = true
                p += 1
                if p < b.count {
                    d.append(b[p])
                    p += 1
                }
            } else {
                d.append(c)
                p += 1
            }
        }
        return (d, quoted)
    }
}
