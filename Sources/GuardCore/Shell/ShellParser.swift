import Glibc

/// A recursive-descent parser for POSIX sh plus the bash forms agents write, over UTF-8 bytes.
///
/// It extracts simple commands (argv words, assignments, redirections) from lists, pipelines, compound commands,
/// function bodies, command and process substitutions, backticks and unquoted here-documents. It does not
/// expand anything: a word that needs expansion is reported as unknown.
struct ShellParser {
    /// Deepest nesting of compound commands and substitutions accepted.
    static let maxDepth = 64
    /// Longest text accepted, in bytes.
    static let maxLength = 1 << 20

    private struct Failure: Error {
        var message: String
        var offset: Int
    }

    private struct PendingHeredoc {
        var delimiter: [UInt8]
        var stripTabs: Bool
        var expands: Bool
        /// Where its text goes once read: a simple command's index in `out.commands` and the redirection's index.
        var command: Int?
        var redirection = 0
    }

    private let b: UnsafeBufferPointer<UInt8>
    private var p = 0
    private var depth: Int
    private var inSubstitution: Bool
    private var baseOffset: Int
    private var out = ShellScript()
    private var pending: [PendingHeredoc] = []
    /// Counts the times pending here-documents were read (a newline inside a substitution can read them before
    /// their command is complete; their text then stays unattached).
    private var heredocReads = 0
    private var wbuf: [UInt8] = []

    private init(_ buffer: UnsafeBufferPointer<UInt8>, depth: Int, inSubstitution: Bool, baseOffset: Int) {
        self.b = buffer
        self.depth = depth
        self.inSubstitution = inSubstitution
        self.baseOffset = baseOffset
        // No word buffer up front: most words are copied verbatim from the input and never use it.
    }

    static func parse(_ buffer: UnsafeBufferPointer<UInt8>) -> ShellScript {
        var script = ShellScript()
        parse(buffer, into: &script)
        return script
    }

    /// Parses into `script`, reusing its storage: its commands and pipelines are replaced (a caller that
    /// parses many texts, one after another, allocates the outer arrays once).
    static func parse(_ buffer: UnsafeBufferPointer<UInt8>, into script: inout ShellScript) {
        script.commands.removeAll(keepingCapacity: true)
        script.pipelines.removeAll(keepingCapacity: true)
        script.error = nil
        if buffer.count > maxLength {
            script.error = ShellParseError(message: "text longer than \(maxLength) bytes", offset: maxLength)
            return
        }
        var parser = ShellParser(buffer, depth: 0, inSubstitution: false, baseOffset: 0)
        swap(&parser.out, &script)
        parser.run()
        swap(&parser.out, &script)
    }

    private mutating func run() {
        do {
            try parseList(stopAtParen: false)
            skipBlanks()
            if p < b.count {
                throw Failure(message: "unexpected \(describe(p))", offset: p)
            }
        } catch let error as Failure {
            out.error = ShellParseError(message: error.message, offset: error.offset + baseOffset)
        } catch {
            out.error = ShellParseError(message: "\(error)", offset: p + baseOffset)
        }
    }

    // MARK: - Bytes

    @inline(__always) private func at(_ i: Int) -> UInt8 { i < b.count ? b[i] : 0 }
    @inline(__always) private var cur: UInt8 { p < b.count ? b[p] : 0 }

    /// Bytes that stand for themselves in an unquoted word: not a metacharacter, quote, `\\`, `$` or backquote.
    @inline(__always) private static func isPlain(_ c: UInt8) -> Bool {
        // Bits of the bytes below 0x80 that are not plain: tab nl sp " $ & ' ( ) ; < > \\ ` |
        let low: UInt64 =
            (1 << 0x09) | (1 << 0x0A) | (1 << 0x20) | (1 << 0x22) | (1 << 0x24) | (1 << 0x26)
            | (1 << 0x27) | (1 << 0x28) | (1 << 0x29) | (1 << 0x3B) | (1 << 0x3C) | (1 << 0x3E)
        let high: UInt64 = (1 << (0x5C - 64)) | (1 << (0x60 - 64)) | (1 << (0x7C - 64))
        if c < 64 { return low & (1 << UInt64(c)) == 0 }
        if c < 128 { return high & (1 << UInt64(c - 64)) == 0 }
        return true
    }

    @inline(__always) private static func isMeta(_ c: UInt8) -> Bool {
        switch c {
        case 0x20, 0x09, 0x0A, 0x3B, 0x26, 0x7C, 0x3C, 0x3E, 0x28, 0x29: return true  // sp tab nl ; & | < > ( )
        default: return false
        }
    }

    @inline(__always) private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    @inline(__always) private static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= 0x30 && c <= 0x39)
    }

    private func describe(_ i: Int) -> String {
        if i >= b.count { return "end of text" }
        let c = b[i]
        if c == 0x0A { return "newline" }
        if c < 0x20 || c >= 0x7F { return "byte 0x\(String(c, radix: 16))" }
        return "'\(Character(Unicode.Scalar(c)))'"
    }

    private func fail(_ message: String) -> Failure { Failure(message: message, offset: p) }

    private mutating func enter() throws {
        depth += 1
        if depth > ShellParser.maxDepth {
            throw fail("nesting deeper than \(ShellParser.maxDepth) levels")
        }
    }

    /// Skips blanks, line continuations and comments; stops at a newline.
    private mutating func skipBlanks() {
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
    private mutating func consumeNewline() throws {
        p += 1
        if !pending.isEmpty { try readHeredocBodies() }
    }

    private mutating func skipNewlines() throws {
        while true {
            skipBlanks()
            if cur == 0x0A && p < b.count { try consumeNewline() } else { return }
        }
    }

    private mutating func readHeredocBodies() throws {
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
    private mutating func scanExpansions(_ start: Int, _ end: Int) throws {
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

    // MARK: - Keywords

    /// The unquoted literal word at `p` if it is delimited (followed by a metacharacter or end).
    @inline(__always)
    private func bareWord(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        if p + n > b.count { return false }
        let ptr = s.utf8Start
        if b[p] != ptr[0] { return false }
        for k in 0..<n where b[p + k] != ptr[k] { return false }
        let next = at(p + n)
        return p + n >= b.count || ShellParser.isMeta(next)
    }

    private mutating func expectWord(_ s: StaticString) throws {
        try skipNewlines()
        guard bareWord(s) else { throw fail("expected '\(s)' but found \(describe(p))") }
        p += s.utf8CodeUnitCount
    }

    /// Whether the next token in command position ends the current list.
    private func atListEnd(stopAtParen: Bool) -> Bool {
        if p >= b.count { return true }
        let c = b[p]
        if c == 0x29 { return true }  // ')'
        if c == 0x3B && (at(p + 1) == 0x3B || at(p + 1) == 0x26) { return true }  // ;; ;&
        if c == 0x7D && (p + 1 >= b.count || ShellParser.isMeta(at(p + 1))) { return true }  // }
        switch c {
        case 0x74: return bareWord("then")
        case 0x65: return bareWord("elif") || bareWord("else") || bareWord("esac")
        case 0x66: return bareWord("fi")
        case 0x64: return bareWord("do") || bareWord("done")
        default: return false
        }
    }

    // MARK: - Grammar

    private mutating func parseList(stopAtParen: Bool) throws {
        while true {
            try skipNewlines()
            if atListEnd(stopAtParen: stopAtParen) { return }
            try parseAndOr()
            skipBlanks()
            let c = cur
            if p >= b.count { return }
            if c == 0x3B && at(p + 1) != 0x3B && at(p + 1) != 0x26 {
                p += 1
            } else if c == 0x26 && at(p + 1) != 0x26 && at(p + 1) != 0x3E {
                p += 1
            } else if c == 0x0A {
                try consumeNewline()
            } else {
                return
            }
        }
    }

    private mutating func parseAndOr() throws {
        try parsePipeline()
        while true {
            skipBlanks()
            if (cur == 0x26 && at(p + 1) == 0x26) || (cur == 0x7C && at(p + 1) == 0x7C) {
                p += 2
                try skipNewlines()
                try parsePipeline()
            } else {
                return
            }
        }
    }

    private mutating func parsePipeline() throws {
        skipBlanks()
        var sawPrefix = true
        while sawPrefix {
            sawPrefix = false
            if bareWord("!") {
                p += 1
                skipBlanks()
                sawPrefix = true
            } else if bareWord("time") {
                p += 4
                skipBlanks()
                if bareWord("-p") { p += 2 }
                skipBlanks()
                sawPrefix = true
            }
        }
        // A lone command (no `|`) needs no stage list: the first stage is only materialised at a second one.
        var stages: [[Int]] = []
        var first = 0..<0
        var count = 0
        while true {
            let start = out.commands.count
            try parseCommand()
            if count == 0 {
                first = start..<out.commands.count
            } else {
                if count == 1 { stages.append(Array(first)) }
                stages.append(Array(start..<out.commands.count))
            }
            count += 1
            skipBlanks()
            if cur == 0x7C && at(p + 1) != 0x7C {
                p += at(p + 1) == 0x26 ? 2 : 1
                try skipNewlines()
            } else {
                break
            }
        }
        if stages.count >= 2 { out.pipelines.append(ShellPipeline(stages: stages)) }
    }

    private mutating func parseCommand() throws {
        try enter()
        defer { depth -= 1 }
        skipBlanks()
        if p >= b.count { throw fail("expected a command but found end of text") }
        let c = b[p]
        if c == 0x7B && bareWord("{") {
            p += 1
            try parseList(stopAtParen: false)
            try skipNewlines()
            guard cur == 0x7D else { throw fail("expected '}' to close '{' but found \(describe(p))") }
            p += 1
        } else if c == 0x28 {
            if at(p + 1) == 0x28 {
                try skipArithmetic(open: 2)
            } else {
                p += 1
                try parseList(stopAtParen: true)
                try skipNewlines()
                guard cur == 0x29 else { throw fail("expected ')' to close '(' but found \(describe(p))") }
                p += 1
            }
        } else if bareWord("if") {
            p += 2
            try parseList(stopAtParen: false)
            try expectWord("then")
            try parseList(stopAtParen: false)
            while true {
                try skipNewlines()
                if bareWord("elif") {
                    p += 4
                    try parseList(stopAtParen: false)
                    try expectWord("then")
                    try parseList(stopAtParen: false)
                } else if bareWord("else") {
                    p += 4
                    try parseList(stopAtParen: false)
                } else {
                    break
                }
            }
            try expectWord("fi")
        } else if bareWord("while") || bareWord("until") {
            p += 5
            try parseList(stopAtParen: false)
            try parseDoGroup()
        } else if bareWord("for") || bareWord("select") {
            p += bareWord("for") ? 3 : 6
            skipBlanks()
            if cur == 0x28 && at(p + 1) == 0x28 {
                try skipArithmetic(open: 2)
            } else {
                let nameStart = p
                while p < b.count && ShellParser.isNameChar(b[p]) { p += 1 }
                if p == nameStart { throw fail("expected a variable name after 'for' but found \(describe(p))") }
                try skipNewlines()
                if bareWord("in") {
                    p += 2
                    while true {
                        skipBlanks()
                        if p >= b.count || b[p] == 0x3B || b[p] == 0x0A { break }
                        if ShellParser.isMeta(b[p]) { throw fail("unexpected \(describe(p)) in 'for' word list") }
                        _ = try parseWord(allowAssignment: false)
                    }
                }
            }
            skipBlanks()
            if cur == 0x3B { p += 1 }
            try skipNewlines()
            if bareWord("{") {
                try parseCommand()
            } else {
                try parseDoGroup()
            }
        } else if bareWord("case") {
            p += 4
            skipBlanks()
            _ = try parseWord(allowAssignment: false)
            try expectWord("in")
            while true {
                try skipNewlines()
                if bareWord("esac") {
                    p += 4
                    break
                }
                if p >= b.count { throw fail("expected 'esac' to close 'case' but found end of text") }
                if cur == 0x28 { p += 1 }
                while true {
                    skipBlanks()
                    if p >= b.count || ShellParser.isMeta(b[p]) {
                        throw fail("expected a case pattern but found \(describe(p))")
                    }
                    _ = try parseWord(allowAssignment: false, pattern: true)
                    skipBlanks()
                    if cur == 0x7C {
                        p += 1
                        continue
                    }
                    break
                }
                guard cur == 0x29 else { throw fail("expected ')' after case pattern but found \(describe(p))") }
                p += 1
                try parseList(stopAtParen: false)
                try skipNewlines()
                if cur == 0x3B && at(p + 1) == 0x3B {
                    p += at(p + 2) == 0x26 ? 3 : 2
                } else if cur == 0x3B && at(p + 1) == 0x26 {
                    p += 2
                } else if !bareWord("esac") {
                    throw fail("expected ';;' or 'esac' but found \(describe(p))")
                }
            }
        } else if bareWord("function") {
            p += 8
            skipBlanks()
            let nameStart = p
            while p < b.count && !ShellParser.isMeta(b[p]) { p += 1 }
            if p == nameStart { throw fail("expected a function name after 'function'") }
            skipBlanks()
            if cur == 0x28 {
                p += 1
                skipBlanks()
                guard cur == 0x29 else { throw fail("expected ')' after '(' in function definition") }
                p += 1
            }
            try skipNewlines()
            try parseCommand()
        } else if bareWord("[[") {
            p += 2
            try parseTest()
        } else if bareWord("coproc") {
            p += 6
            try parseCommand()
            return
        } else {
            try parseSimpleCommand()
            return
        }
        try parseRedirections()
    }

    private mutating func parseDoGroup() throws {
        try expectWord("do")
        try parseList(stopAtParen: false)
        try expectWord("done")
    }

    /// Skips `((...))` or `$((...))` arithmetic; `open` is the count of '(' at `p`.
    private mutating func skipArithmetic(open: Int) throws {
        p += open
        var level = open
        while p < b.count {
            let c = b[p]
            if c == 0x24 && at(p + 1) == 0x28 && at(p + 2) != 0x28 {
                // $( ... ) inside arithmetic runs a command too.
                p += 2
                try parseSubstitutionList()
                continue
            }
            if c == 0x60 {
                try parseBackquote(inDouble: false)
                continue
            }
            if c == 0x28 {
                level += 1
            } else if c == 0x29 {
                level -= 1
                if level == 0 {
                    p += 1
                    return
                }
            } else if c == 0x5C {
                p += 1
            } else if c == 0x27 {
                p += 1
                while p < b.count && b[p] != 0x27 { p += 1 }
            }
            p += 1
        }
        throw fail("unterminated arithmetic '(('")
    }

    /// Parses the inside of `[[ ... ]]`: words, operators and substitutions; no commands but substituted ones.
    private mutating func parseTest() throws {
        var regexNext = false
        while true {
            try skipNewlines()
            if p >= b.count { throw fail("expected ']]' to close '[[' but found end of text") }
            if bareWord("]]") {
                p += 2
                return
            }
            let c = b[p]
            if (c == 0x26 && at(p + 1) == 0x26) || (c == 0x7C && at(p + 1) == 0x7C) {
                p += 2
            } else if c == 0x28 || c == 0x29 || c == 0x3C || c == 0x3E || c == 0x21 {
                p += 1
            } else if regexNext {
                try parseWord(allowAssignment: false, pattern: true, regex: true)
                regexNext = false
            } else {
                let start = p
                _ = try parseWord(allowAssignment: false, pattern: true)
                regexNext = p - start == 2 && b[start] == 0x3D && b[start + 1] == 0x7E
            }
        }
    }

    private mutating func parseRedirections() throws {
        while true {
            skipBlanks()
            var r: ShellRedirection?
            if try !tryRedirection(into: &r) { return }
        }
    }

    private mutating func parseSimpleCommand() throws {
        var cmd = SimpleCommand()
        var heredocs: [(pending: Int, redirection: Int)] = []
        var braces: [(index: Int, words: [String])] = []
        let reads = heredocReads
        cmd.argv.reserveCapacity(8)
        cmd.offset = p + baseOffset
        cmd.inSubstitution = inSubstitution
        var prefix = true
        var feeds: [Int] = []
        while true {
            skipBlanks()
            if p >= b.count { break }
            let c = b[p]
            if c == 0x0A || c == 0x3B || c == 0x7C || c == 0x29 { break }
            if c == 0x26 && at(p + 1) != 0x3E { break }
            if c == 0x28 {
                // name () compound: a function definition.
                if cmd.argv.count == 1 && cmd.assignments.isEmpty {
                    p += 1
                    skipBlanks()
                    guard cur == 0x29 else { throw fail("expected ')' after '(' in function definition") }
                    p += 1
                    try skipNewlines()
                    try parseCommand()
                    return
                }
                throw fail("unexpected '('; quote it or write a subshell on its own")
            }
            var redirTarget: ShellRedirection?
            let pendingBefore = pending.count
            if try tryRedirection(into: &redirTarget) {
                if let r = redirTarget {
                    // A here-document of this command: its text is read at the end of the line.
                    if pending.count == pendingBefore + 1 {
                        heredocs.append((pending.count - 1, cmd.redirections.count))
                    }
                    cmd.redirections.append(r)
                }
                continue
            }
            let before = out.commands.count
            let wordStart = p
            let (word, isAssignment) = try parseWord(allowAssignment: prefix)
            if isAssignment {
                cmd.assignments.append(word.text)
                if cur == 0x28 {  // NAME=( array )
                    p += 1
                    while true {
                        try skipNewlines()
                        if cur == 0x29 {
                            p += 1
                            break
                        }
                        if p >= b.count { throw fail("expected ')' to close array assignment") }
                        _ = try parseWord(allowAssignment: false)
                    }
                }
            } else {
                prefix = false
                if !word.isKnown { cmd.unknown.append(cmd.argv.count) }
                // A word with unquoted braces (copied verbatim from the input) is brace-expanded, as bash does.
                if word.isKnown, let base = b.baseAddress, memchr(base + wordStart, 0x7B, p - wordStart) != nil,
                    word.text.utf8.count == p - wordStart, let words = BraceExpansion.expand(word.text)
                {
                    braces.append((cmd.argv.count, words))
                }
                cmd.argv.append(word.text)
            }
            if out.commands.count > before { feeds.append(contentsOf: before..<out.commands.count) }
        }
        if cmd.argv.isEmpty && cmd.assignments.isEmpty && cmd.redirections.isEmpty {
            throw fail("expected a command but found \(describe(p))")
        }
        if !braces.isEmpty { cmd.expanded = ShellParser.expand(cmd, braces) }
        let index = out.commands.count
        out.commands.append(cmd)
        if reads == heredocReads {
            for (k, r) in heredocs where k < pending.count {
                pending[k].command = index
                pending[k].redirection = r
            }
        }
        // Commands substituted into this one's words feed it: `sh <(curl x)`, `bash -c "$(curl x)"`.
        if !feeds.isEmpty && !cmd.argv.isEmpty {
            out.pipelines.append(ShellPipeline(stages: [feeds, [index]]))
        }
    }

    /// `cmd`'s argv with the words in `braces` replaced by their expansions, unknown indices moved along.
    private static func expand(_ cmd: SimpleCommand, _ braces: [(index: Int, words: [String])]) -> ExpandedArgv {
        var argv: [String] = []
        var unknown: [Int] = []
        var next = 0
        for (k, w) in cmd.argv.enumerated() {
            if next < braces.count && braces[next].index == k {
                argv += braces[next].words
                next += 1
            } else {
                if cmd.unknown.contains(k) { unknown.append(argv.count) }
                argv.append(w)
            }
        }
        return ExpandedArgv(argv: argv, unknown: unknown)
    }

    /// Parses a redirection at `p` if there is one.
    private mutating func tryRedirection(into result: inout ShellRedirection?) throws -> Bool {
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

    private mutating func parseHeredocDelimiter() throws -> ([UInt8], Bool) {
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

    // MARK: - Words

    /// Parses one word at `p`; returns it and whether it is a `NAME=value` assignment (when allowed).
    @discardableResult
    private mutating func parseWord(
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
    private mutating func copyBalancedGlob() throws {
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
    private mutating func parseDoubleQuoted() throws -> Bool {
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
    private mutating func parseDollar() throws -> Bool {
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
    private func closingBracket(from: Int) -> Int? {
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
    private mutating func parseSubstitutionList() throws {
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
    private mutating func skipParameter() throws {
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
    private mutating func parseAnsiC() throws {
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

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Parses a backquoted command substitution at `p`: unescapes its text and parses it as a script.
    private mutating func parseBackquote(inDouble: Bool) throws {
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
