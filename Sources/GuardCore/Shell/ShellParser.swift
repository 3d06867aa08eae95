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

    struct Failure: Error {
        var message: String
        var offset: Int
    }

    struct PendingHeredoc {
        var delimiter: [UInt8]
        var stripTabs: Bool
        var expands: Bool
        /// Where its text goes once read: a simple command's index in `out.commands` and the redirection's index.
        var command: Int?
        var redirection = 0
    }

    let b: UnsafeBufferPointer<UInt8>
    var p = 0
    var depth: Int
    var inSubstitution: Bool
    var baseOffset: Int
    var out = ShellScript()
    var pending: [PendingHeredoc] = []
    /// Counts the times pending here-documents were read (a newline inside a substitution can read them before
    /// their command is complete; their text then stays unattached).
    var heredocReads = 0
    var wbuf: [UInt8] = []

    init(_ buffer: UnsafeBufferPointer<UInt8>, depth: Int, inSubstitution: Bool, baseOffset: Int) {
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

    mutating func run() {
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

    // MARK: - Keywords

    /// The unquoted literal word at `p` if it is delimited (followed by a metacharacter or end).
    @inline(__always)
    func bareWord(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        if p + n > b.count { return false }
        let ptr = s.utf8Start
        if b[p] != ptr[0] { return false }
        for k in 0..<n where b[p + k] != ptr[k] { return false }
        let next = at(p + n)
        return p + n >= b.count || ShellParser.isMeta(next)
    }

    mutating func expectWord(_ s: StaticString) throws {
        try skipNewlines()
        guard bareWord(s) else { throw fail("expected '\(s)' but found \(describe(p))") }
        p += s.utf8CodeUnitCount
    }

    /// Whether the next token in command position ends the current list.
    func atListEnd(stopAtParen: Bool) -> Bool {
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

    mutating func parseList(stopAtParen: Bool) throws {
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

    mutating func parseAndOr() throws {
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

    mutating func parsePipeline() throws {
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

    mutating func parseCommand() throws {
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

    mutating func parseDoGroup() throws {
        try expectWord("do")
        try parseList(stopAtParen: false)
        try expectWord("done")
    }

    /// Skips `((...))` or `$((...))` arithmetic; `open` is the count of '(' at `p`.
    mutating func skipArithmetic(open: Int) throws {
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
    mutating func parseTest() throws {
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

    mutating func parseRedirections() throws {
        while true {
            skipBlanks()
            var r: ShellRedirection?
            if try !tryRedirection(into: &r) { return }
        }
    }

    mutating func parseSimpleCommand() throws {
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
    static func expand(_ cmd: SimpleCommand, _ braces: [(index: Int, words: [String])]) -> ExpandedArgv {
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
}
