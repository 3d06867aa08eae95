#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A prefilter for `check --file`: proves, from the line's bytes alone, that a command line gets the plain
/// `allow` the full evaluation would give it, or says it cannot (and the line is evaluated in full).
///
/// It reads only the shell a command line of plain words is made of (words of safe characters, quotes without
/// expansions, `&&` `||` `|` `;`, output redirections to plain words), looks each command name up in the run's
/// resolver cache by its bytes, and for each rule the name is a candidate for tests *necessary* conditions on the
/// words: every `args` pattern matches some word (or a word's resolved path), every wanted flag could be in some
/// option word, some word resolves under (or outside) the rule's path prefixes. A rule that could match, a
/// wrapper, a shell text rule that could match, a pipeline stage a pipeline rule names, a download in a line with
/// more commands, a `cd` it cannot follow: each sends the line to the full evaluator. So it never decides
/// anything the evaluator would not: it only skips the work for lines no rule comes near (≈95% of an agent's
/// lines). `QuickCheckTests` runs both over the benchmark corpora, the shfmt corpus, fuzzed lines and every
/// shipped policy's tests and requires the same output.
///
/// Written by hand: it is a few byte loops over the run's compiled rules, which no library provides.
final class QuickScratch {
    static let maxLength = 4096
    static let maxWords = 256

    /// The line, then the values of words with quotes (after quote removal): a word of plain bytes is read in
    /// place in the line's copy, the others are copied after it.
    let vals = UnsafeMutablePointer<UInt8>.allocate(capacity: 2 * maxLength)
    /// Word `k`'s value is `vals[wordStart[k]..<wordEnd[k]]`.
    let wordStart = UnsafeMutablePointer<Int32>.allocate(capacity: maxWords + 1)
    let wordEnd = UnsafeMutablePointer<Int32>.allocate(capacity: maxWords + 1)
    /// Command `c` is words `cmdFirst[c]..<cmdFirst[c + 1]`, followed by `|` when `pipeNext[c]`.
    let cmdFirst = UnsafeMutablePointer<Int32>.allocate(capacity: maxWords + 2)
    let pipeNext = UnsafeMutablePointer<Bool>.allocate(capacity: maxWords + 1)
    /// Whether command `c` reads standard input from a file (`< FILE`): the evaluator counts that file among its
    /// path operands, which the prefilter does not read, so a path rule of it sends the line to the evaluator.
    let readsFile = UnsafeMutablePointer<Bool>.allocate(capacity: maxWords + 2)
    /// Commands in the last line lexed.
    @exclusivity(unchecked) var commands = 0
    /// The working directory as it changes with `cd`, and a buffer for paths made absolute.
    @exclusivity(unchecked) var cwd: [UInt8] = []
    @exclusivity(unchecked) var path: [UInt8] = []
    /// The run's directory, and its workspace (empty: none), as ASCII normal bytes; nil when they are not (the
    /// evaluator then judges every line, or every path).
    let baseCwd: [UInt8]?
    let workspace: [UInt8]?
    /// `workspace` as text (nil for none).
    let workspaceString: String?

    /// The same for what a wrapper runs, made when first needed.
    @exclusivity(unchecked) fileprivate var inner: QuickScratch?
    /// A path made absolute (`absolute`): the directory, `/`, the word.
    let pbuf = UnsafeMutablePointer<UInt8>.allocate(capacity: 3 * maxLength + 2)
    /// Each word of the command being judged packed into an integer (`pack`): its bytes when it has 1 to 8, else 0.
    let packed = UnsafeMutablePointer<UInt64>.allocate(capacity: maxWords + 1)

    /// Words `from..<end` as `String`s (for `Wrappers.unwrap`, which reads argv as text).
    func strings(_ from: Int, _ end: Int) -> [String] {
        (from..<end).map { String(decoding: word($0), as: UTF8.self) }
    }

    /// Packs words `from..<end` for `CompiledMatch.argsPacked`.
    func pack(_ from: Int, _ end: Int) {
        for k in from..<max(from, end) { packed[k] = QuickScratch.packed(word(k)) }
    }

    /// Up to 8 bytes packed little-endian into one integer (0 for longer or empty text; no word holds a NUL, so
    /// equal integers are equal texts): how names, keywords and literal args are compared.
    @inline(__always)
    static func packed(_ w: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard w.count <= 8 else { return 0 }
        var v: UInt64 = 0
        for (k, c) in w.enumerated() { v |= UInt64(c) << UInt64(8 * k) }
        return v
    }

    /// The pipeline-rule stage bits of a pipeline's commands (`Evaluator.pipelineBits`), command by command.
    @exclusivity(unchecked) var stageBits: [UInt64] = []

    /// Names of up to 8 bytes packed into an integer (`Evaluator.lookup`), 512 slots, and their facts.
    let shortKeys: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 512)
        p.initialize(repeating: 0, count: 512)
        return p
    }()
    @exclusivity(unchecked) var shortInfos = [NameInfo?](repeating: nil, count: 512)
    /// Command names with a `/`, resolved against `baseCwd`.
    let paths = ResolveCache()

    /// Scratch space for lines run in `template`'s directory and workspace.
    convenience init(template: borrowing ExecContext) {
        func plain(_ s: String) -> [UInt8]? {
            Paths.withBytes(s) { b in Paths.isASCII(b) && Paths.isNormalBytes(b) ? Array(b) : nil }
        }
        self.init(
            baseCwd: template.cwdUnknown ? nil : template.cwd.flatMap(plain),
            workspace: template.workspace.map(plain) ?? [])
    }

    init(baseCwd: [UInt8]?, workspace: [UInt8]?) {
        self.baseCwd = baseCwd
        self.workspace = workspace
        workspaceString = workspace.flatMap { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
        path.reserveCapacity(2 * QuickScratch.maxLength)
    }

    deinit {
        vals.deallocate()
        wordStart.deallocate()
        wordEnd.deallocate()
        cmdFirst.deallocate()
        pipeNext.deallocate()
        readsFile.deallocate()
        pbuf.deallocate()
        shortKeys.deallocate()
        packed.deallocate()
    }

    /// `w` as an absolute normal path (made absolute against `cwd`): `w` itself when it is one already, else
    /// built in `pbuf`; nil when it does not fit or is not ASCII.
    func absolute(_ w: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        if w.first == 0x2F && Paths.isNormalBytes(w) { return w }
        var n = 0
        if w.first != 0x2F {
            guard cwd.count <= 2 * QuickScratch.maxLength else { return nil }
            cwd.withUnsafeBufferPointer { c in if let b = c.baseAddress { pbuf.update(from: b, count: c.count) } }
            n = cwd.count
            pbuf[n] = 0x2F
            n += 1
        }
        if let b = w.baseAddress { (pbuf + n).update(from: b, count: w.count) }
        n += w.count
        let joined = UnsafeMutableBufferPointer(start: pbuf, count: n)
        // A relative word with no `.`, `..` or empty segment joins a normal directory into a normal path.
        if w.first != 0x2F && QuickScratch.isPlainRelative(w) && cwd.count > 1 {
            return UnsafeBufferPointer(joined)
        }
        guard let m = Paths.normalizeInPlace(joined) else { return nil }
        return UnsafeBufferPointer(start: pbuf, count: m)
    }

    /// A relative path whose segments are all neither empty nor `.` nor `..` (`src/a.rs`, not `a//b`, `./a`,
    /// `a/`).
    static func isPlainRelative(_ w: UnsafeBufferPointer<UInt8>) -> Bool {
        var seg = 0
        var dots = 0
        for c in w {
            if c == 0x2F {
                if seg == 0 || seg == dots && dots <= 2 { return false }
                seg = 0
                dots = 0
            } else {
                seg += 1
                if c == 0x2E { dots += 1 }
            }
        }
        return seg > 0 && !(seg == dots && dots <= 2)
    }

    @inline(__always)
    func word(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: vals + Int(wordStart[k]), count: Int(wordEnd[k] &- wordStart[k]))
    }

    /// Byte classes for the lexer.
    enum Class: UInt8 {
        case other = 0, safe, blank, and, pipe, semicolon, greater, single, double, tilde, bracket, less
    }

    /// Letters, digits and `_ . / : = @ % + , -` are plain unquoted; the rest sends the line to the evaluator.
    static let classes: [UInt8] = {
        var t = [UInt8](repeating: Class.other.rawValue, count: 256)
        for c in UInt8(0x30)...0x39 { t[Int(c)] = Class.safe.rawValue }
        for c in UInt8(0x41)...0x5A { t[Int(c)] = Class.safe.rawValue }
        for c in UInt8(0x61)...0x7A { t[Int(c)] = Class.safe.rawValue }
        for c in "_./:=@%+,-".utf8 { t[Int(c)] = Class.safe.rawValue }
        t[0x20] = Class.blank.rawValue
        t[0x09] = Class.blank.rawValue
        t[0x26] = Class.and.rawValue
        t[0x7C] = Class.pipe.rawValue
        t[0x3B] = Class.semicolon.rawValue
        t[0x3E] = Class.greater.rawValue
        t[0x27] = Class.single.rawValue
        t[0x22] = Class.double.rawValue
        t[0x7E] = Class.tilde.rawValue
        t[0x5B] = Class.bracket.rawValue
        t[0x3C] = Class.less.rawValue
        t[0x5D] = Class.bracket.rawValue
        return t
    }()

    /// Whether a word of at most 8 bytes is shell syntax in a command name's place (`if`, `then`, `else`, `elif`,
    /// `fi`, `do`, `done`, `case`, `esac`, `while`, `until`, `for`, `in`, `function`, `select`, `time`,
    /// `coproc`): its bytes packed little-endian into one integer and compared with each keyword's.
    @inline(__always)
    static func isReserved(_ w: UnsafeBufferPointer<UInt8>) -> Bool {
        switch packed(w) {
        case 0x6669, 0x6E656874, 0x65736C65, 0x66696C65, 0x6966, 0x6F64, 0x656E6F64, 0x65736163, 0x63617365,
            0x656C696877, 0x6C69746E75, 0x726F66, 0x6E69, 0x6E6F6974636E7566, 0x7463656C6573, 0x656D6974,
            0x636F72706F63:
            return true
        default: return false
        }
    }

    /// 0 `if`, 1 `then`, 2 `elif`, 3 `else`, 4 `fi`; nil for any other word.
    @inline(__always)
    static func ifKeyword(_ w: UnsafeBufferPointer<UInt8>) -> Int? {
        guard w.count >= 2 && w.count <= 4 else { return nil }
        switch packed(w) {
        case 0x6669: return 0
        case 0x6E656874: return 1
        case 0x66696C65: return 2
        case 0x65736C65: return 3
        case 0x6966: return 4
        default: return nil
        }
    }

    /// Splits `b` into commands of known words; false for anything else.
    func lex(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count > 0, b.count <= QuickScratch.maxLength, let base = b.baseAddress else { return false }
        vals.update(from: base, count: b.count)
        var l = Lexer(
            b: UnsafePointer(vals), n: b.count, vals: vals, ws: wordStart, we: wordEnd, cf: cmdFirst, pn: pipeNext,
            rf: readsFile)
        l.nv = b.count
        let ok = QuickScratch.classes.withUnsafeBufferPointer { l.run($0.baseAddress!) }
        commands = l.nc
        guard ok else { return false }
        // Each command's name: a program name or path (not syntax, or a word with `=`).
        for c in 0..<commands {
            let w = word(Int(cmdFirst[c]))
            if w.isEmpty { return false }
            for x in w where x == 0x3D { return false }
            if w.count <= 8 && QuickScratch.isReserved(w) { return false }
        }
        return true
    }

    /// The lexer's state over raw pointers (no bounds checks or reference counting in its loops).
    struct Lexer {
        let b: UnsafePointer<UInt8>
        let n: Int
        let vals: UnsafeMutablePointer<UInt8>
        let ws: UnsafeMutablePointer<Int32>
        let we: UnsafeMutablePointer<Int32>
        let cf: UnsafeMutablePointer<Int32>
        let pn: UnsafeMutablePointer<Bool>
        let rf: UnsafeMutablePointer<Bool>
        var i = 0, nv = 0, nw = 0, nc = 0

        init(
            b: UnsafePointer<UInt8>, n: Int, vals: UnsafeMutablePointer<UInt8>, ws: UnsafeMutablePointer<Int32>,
            we: UnsafeMutablePointer<Int32>, cf: UnsafeMutablePointer<Int32>, pn: UnsafeMutablePointer<Bool>,
            rf: UnsafeMutablePointer<Bool>
        ) {
            self.b = b
            self.n = n
            self.vals = vals
            self.ws = ws
            self.we = we
            self.cf = cf
            self.pn = pn
            self.rf = rf
        }

        @inline(__always) mutating func endCommand(piped: Bool) {
            pn[nc] = piped
            nc += 1
            cf[nc] = Int32(nw)
            rf[nc] = false
        }

        /// Open `if` commands (at most 8): each one's part, two bits in `states` (0 condition, 1 `then` body,
        /// 2 `else` body), and in `parts` the command count when that part began (every part needs a command).
        var ifDepth = 0

        mutating func run(_ t: UnsafePointer<UInt8>) -> Bool {
            cf[0] = 0
            rf[0] = false
            var lastSemicolon = false
            var lastPipe = false
            var assigned = false
            // An `if ... fi` just ended: an operator or the end may follow, not a word.
            var compoundEnded = false
            var parts = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
            var states: UInt32 = 0
            while true {
                while i < n && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
                let words = nw - Int(cf[nc])
                if i == n {
                    guard ifDepth == 0 else { return false }
                    if words == 0 {
                        // Only `cmd;` or `fi` may end without a command (`endCommand` marked the end already).
                        return lastSemicolon || compoundEnded
                    }
                    endCommand(piped: false)
                    return true
                }
                let ended = compoundEnded
                let afterSemicolon = lastSemicolon
                compoundEnded = false
                lastSemicolon = false
                switch t[Int(b[i])] {
                case Class.and.rawValue:  // &&
                    guard words > 0 || ended, i + 1 < n, b[i + 1] == 0x26 else { return false }
                    i += 2
                    if words > 0 { endCommand(piped: false) }
                    lastPipe = false
                    assigned = false
                case Class.pipe.rawValue:  // | or ||
                    if i + 1 < n && b[i + 1] == 0x7C {
                        guard words > 0 || ended else { return false }
                        i += 2
                        if words > 0 { endCommand(piped: false) }
                        lastPipe = false
                    } else {
                        guard words > 0, !(i + 1 < n && b[i + 1] == 0x26) else { return false }
                        i += 1
                        endCommand(piped: true)
                        lastPipe = true
                    }
                    assigned = false
                case Class.semicolon.rawValue:
                    guard words > 0 || ended, !(i + 1 < n && b[i + 1] == 0x3B) else { return false }
                    i += 1
                    lastSemicolon = true
                    if words > 0 { endCommand(piped: false) }
                    lastPipe = false
                    assigned = false
                case Class.greater.rawValue:  // > after a word
                    guard words > 0, redirection(t) else { return false }
                case Class.less.rawValue:  // < FILE after a word: standard input from a file (`stdinText` reads none)
                    guard words > 0, i + 1 < n, b[i + 1] != 0x3C, b[i + 1] != 0x26, b[i + 1] != 0x3E,
                        b[i + 1] != 0x28, redirection(t)
                    else { return false }
                default:
                    guard !ended, nw < QuickScratch.maxWords, word(t) else { return false }
                    if words == 0 && !assigned && firstQuote == Int.max,
                        let k = QuickScratch.ifKeyword(
                            UnsafeBufferPointer(start: vals + Int(ws[nw - 1]), count: Int(we[nw - 1] - ws[nw - 1])))
                    {
                        // `if`, `then`, `elif`, `else`, `fi` in a command name's place: the commands between them
                        // are commands like any other.
                        drop()
                        let top = ifDepth - 1
                        let state = top >= 0 ? (states >> UInt32(2 * top)) & 3 : 3
                        let part =
                            top >= 0
                            ? withUnsafeBytes(of: &parts) { $0.load(fromByteOffset: 4 * top, as: Int32.self) } : 0
                        let partNonEmpty = Int32(nc) > part
                        switch k {
                        case 0:  // if
                            guard !lastPipe, ifDepth < 8 else { return false }
                            ifDepth += 1
                            states &= ~(3 << UInt32(2 * (ifDepth - 1)))
                        case 1:  // then
                            guard afterSemicolon, state == 0, partNonEmpty else { return false }
                            states = (states & ~(3 << UInt32(2 * top))) | (1 << UInt32(2 * top))
                        case 2:  // elif
                            guard afterSemicolon, state == 1, partNonEmpty else { return false }
                            states &= ~(3 << UInt32(2 * top))
                        case 3:  // else
                            guard afterSemicolon, state == 1, partNonEmpty else { return false }
                            states = (states & ~(3 << UInt32(2 * top))) | (2 << UInt32(2 * top))
                        default:  // fi
                            guard afterSemicolon, state == 1 || state == 2, partNonEmpty else { return false }
                            ifDepth -= 1
                            compoundEnded = true
                            continue
                        }
                        let at = ifDepth - 1
                        withUnsafeMutableBytes(of: &parts) {
                            $0.storeBytes(of: Int32(nc), toByteOffset: 4 * at, as: Int32.self)
                        }
                        continue
                    }
                    // `NAME=value` before the command name is an assignment, not a word (the evaluator reads
                    // none).
                    if words == 0 && assignment(nw - 1) {
                        drop()
                        assigned = true
                        continue
                    }
                    if i < n && b[i] == 0x3C { return false }  // `0<file`
                    // `2>file`: unquoted digits right before `>` are a descriptor, not a word, as `ShellParser`
                    // reads them (it stops counting at 100,000; a longer number stays a word: left to it).
                    if i < n && b[i] == 0x3E {
                        let s = Int(ws[nw - 1]), e = Int(we[nw - 1])
                        guard words > 0, s < e, firstQuote == Int.max else { return false }
                        var number = 0
                        for k in s..<e {
                            guard vals[k] >= 0x30 && vals[k] <= 0x39, number < 100_000 else { return false }
                            number = number * 10 + Int(vals[k] - 0x30)
                        }
                        drop()
                        guard redirection(t) else { return false }
                    }
                }
            }
        }

        /// Forgets the last word (its value too, when it was copied after the line).
        @inline(__always) mutating func drop() {
            nw -= 1
            if Int(ws[nw]) >= n { nv = Int(ws[nw]) }
        }

        /// Whether word `k` is `NAME=...` with an unquoted name (`firstQuote` is where its first quote began).
        func assignment(_ k: Int) -> Bool {
            let s = Int(ws[k]), e = Int(we[k])
            var j = s
            while j < e && j < firstQuote {
                let c = vals[j]
                if c == 0x3D { return j > s }
                let letter = (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c == 0x5F
                if !(letter || (j > s && c >= 0x30 && c <= 0x39)) { return false }
                j += 1
            }
            return false
        }

        /// Where in `vals` the last word's first quote began (`Int.max`: none).
        var firstQuote = Int.max

        /// One word at `i`: safe bytes, `'...'` and `"..."` without expansions, joined.
        mutating func word(_ t: UnsafePointer<UInt8>) -> Bool {
            // Plain bytes up to a blank or an operator: the word is its own text, in place in the line's copy.
            var j = self.i
            while j < n && t[Int(b[j])] == Class.safe.rawValue { j += 1 }
            if j > self.i {
                let after = j < n ? t[Int(b[j])] : Class.blank.rawValue
                if after == Class.blank.rawValue || after == Class.and.rawValue || after == Class.pipe.rawValue
                    || after == Class.semicolon.rawValue || after == Class.greater.rawValue
                    || after == Class.less.rawValue
                {
                    ws[nw] = Int32(self.i)
                    we[nw] = Int32(j)
                    nw += 1
                    self.i = j
                    firstQuote = Int.max
                    return true
                }
            }
            // Position and length in locals: stores through `vals` do not make the compiler reload them.
            var i = self.i
            var nv = self.nv
            let b = self.b, n = self.n, vals = self.vals
            let start = nv
            var quote = Int.max
            defer {
                self.i = i
                self.nv = nv
                firstQuote = quote
            }
            while i < n {
                let c = b[i]
                switch t[Int(c)] {
                case Class.safe.rawValue:
                    // A run of plain bytes, copied at once.
                    var j = i + 1
                    while j < n && t[Int(b[j])] == Class.safe.rawValue { j += 1 }
                    (vals + nv).update(from: b + i, count: j - i)
                    nv += j - i
                    i = j
                case Class.tilde.rawValue:
                    // `HEAD~3`: a tilde after a letter or digit is literal; elsewhere it may expand.
                    guard nv > start, case let last = vals[nv - 1],
                        (last >= 0x30 && last <= 0x39) || (last | 0x20 >= 0x61 && last | 0x20 <= 0x7A)
                    else { return false }
                    vals[nv] = c
                    nv += 1
                    i += 1
                case Class.single.rawValue, Class.double.rawValue:
                    if quote == Int.max { quote = nv }
                    var j = i + 1
                    while j < n && b[j] != c {
                        let q = b[j]
                        if q >= 0x7F || (q < 0x20 && q != 0x09) { return false }
                        // In double quotes `$`, backquote, backslash and `!` are not plain text.
                        if c == 0x22 && (q == 0x24 || q == 0x60 || q == 0x5C || q == 0x21) { return false }
                        j += 1
                    }
                    if j == n { return false }
                    (vals + nv).update(from: b + i + 1, count: j - i - 1)
                    nv += j - i - 1
                    i = j + 1
                case Class.bracket.rawValue:
                    // `[` and `]` alone (the test command and its last argument); in a word they may glob.
                    guard nv == start, quote == Int.max,
                        i + 1 == n || b[i + 1] == 0x20 || b[i + 1] == 0x09 || b[i + 1] == 0x3B
                    else { return false }
                    vals[nv] = c
                    nv += 1
                    i += 1
                case Class.blank.rawValue, Class.and.rawValue, Class.pipe.rawValue, Class.semicolon.rawValue,
                    Class.greater.rawValue, Class.less.rawValue:
                    ws[nw] = Int32(start)
                    we[nw] = Int32(nv)
                    nw += 1
                    return true
                default:
                    return false
                }
            }
            ws[nw] = Int32(start)
            we[nw] = Int32(nv)
            nw += 1
            return true
        }

        /// `>FILE`, `>>FILE`, `>&N`, `<FILE`: output goes elsewhere, input comes from a file; nothing the evaluator
        /// reads (`SimpleCommand.stdinText` gives no text for `<`). The target is dropped.
        mutating func redirection(_ t: UnsafePointer<UInt8>) -> Bool {
            let input = b[i] == 0x3C
            if input { rf[nc] = true }
            i += 1
            var double = false
            if !input && i < n && b[i] == 0x3E {
                i += 1
                double = true
            }
            // `>&N` duplicates a descriptor; `>>&` is not shell (the parser reports it).
            if i < n && b[i] == 0x26 {
                guard !double else { return false }
                i += 1
                let d = i
                while i < n && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                return i > d && (i == n || b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x3B || b[i] == 0x7C || b[i] == 0x26)
            }
            while i < n && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
            guard i < n, b[i] != 0x7C, b[i] != 0x3E, b[i] != 0x26, b[i] != 0x3B else { return false }
            let mark = nv
            guard nw < QuickScratch.maxWords, word(t) else { return false }
            nw -= 1
            guard we[nw] > ws[nw] else { return false }
            nv = mark
            return i == n || b[i] != 0x3E
        }
    }
}

extension Evaluator {
    /// Whether `line` provably gets a plain `allow` (no rule, nothing acted on) under `template` (a `check --file`
    /// run's directory, workspace and user, the same `s` was made for); false when it may not, or when this
    /// cannot tell.
    mutating func provablyAllowed(
        _ line: UnsafeBufferPointer<UInt8>, template: borrowing ExecContext, scratch s: QuickScratch
    ) -> Bool {
        guard caching, policy.defaultAction == .allow, template.identities.isEmpty, template.parent == nil,
            let base = s.baseCwd, s.lex(line)
        else { return false }
        s.cwd.removeAll(keepingCapacity: true)
        s.cwd.append(contentsOf: base)
        return script(s, text: line, depth: 0)
    }

    /// The lexed script in `s` (run in `s.cwd`) with its text: its commands, pipelines and text rules.
    private mutating func script(_ s: QuickScratch, text: UnsafeBufferPointer<UInt8>, depth: Int) -> Bool {
        let commands = s.commands
        var downloads = false
        for k in 0..<commands {
            let first = Int(s.cmdFirst[k]), end = Int(s.cmdFirst[k + 1])
            let name = s.word(first)
            if QuickScratch.equals(name, "cd") || QuickScratch.equals(name, "pushd") {
                guard changeDirectory(s, first + 1, end) else { return false }
            }
            guard let info = lookup(name, s) else { return false }
            // A download is judged with what later runs the file (`curl -o f URL && sh f`).
            if info.isDownloader && !policy.pipelineRules.isEmpty { downloads = true }
            // (also what a wrapper runs: `curl -o f URL && timeout 5 bash f`)
            if downloads && (info.runsFiles || info.isWrapper) { return false }
            // A wrapper reading a pipe from `echo` or `printf` may run what they print (`echo 'rm -rf x' | sh`)...
            if info.isWrapper && k > 0 && s.pipeNext[k - 1] {
                let producer = s.word(Int(s.cmdFirst[k - 1]))
                // Its basename as `Paths.basename` reads it (`echo/` is `echo`: trailing slashes go first).
                var stop = producer.count
                while stop > 1 && producer[stop - 1] == 0x2F { stop -= 1 }
                var base = stop
                while base > 0 && producer[base - 1] != 0x2F { base -= 1 }
                let tail = UnsafeBufferPointer(rebasing: producer[base..<stop])
                // ... or a stage that passes its input on (`tee`, `cat`), or `command`/`builtin` running one.
                for producerName: StaticString in ["echo", "printf", "tee", "cat", "command", "builtin"]
                where QuickScratch.equals(tail, producerName) {
                    return false
                }
            }
            guard command(s, info, first, end, depth: depth, skipText: true, readsFile: s.readsFile[k]) else {
                return false
            }
        }
        // A pipeline rule needs its stages, in order, among a pipeline's commands.
        if !policy.pipelineRules.isEmpty {
            var k = 0
            while k < commands {
                var e = k
                while e < commands && s.pipeNext[e] { e += 1 }
                if e > k {
                    // Each command's stages: its own, and those of what it wraps (`curl x | timeout 5 bash` fills
                    // `bash`'s stage, as `stageMatches` unwraps).
                    let rules = policy.pipelineRules.count
                    s.stageBits.removeAll(keepingCapacity: true)
                    for c in k...e {
                        let first = Int(s.cmdFirst[c])
                        guard let info = lookup(s.word(first), s),
                            let b = pipelineBits(s, info, first, Int(s.cmdFirst[c + 1]), depth: 0)
                        else { return false }
                        s.stageBits.append(contentsOf: b)
                    }
                    for p in 0..<rules {
                        let stages = policy.rules[policy.pipelineRules[p]].match.pipeline.count
                        var j = 0
                        for c in 0...(e - k)
                        where j < stages && s.stageBits[c * rules + p] & (1 << UInt64(min(j, 63))) != 0 {
                            j += 1
                        }
                        if j == stages { return false }
                    }
                }
                k = e + 1
            }
        }
        // Rules on the whole text (a shell's command line): their cheap tests decide, else the evaluator does.
        for r in policy.scriptRules where QuickScratch.mayMatchText(policy.rules[r].match, text) { return false }
        return true
    }

    /// The pipeline-rule stages (bits per rule, as `NameInfo.stageBits`) the command of words `first..<end` may
    /// fill: its own, or-ed with those of the programs it wraps, as `stageMatches` unwraps `.exec` payloads; nil
    /// when that cannot be told from the bytes (a payload that is itself a wrapper reached through
    /// `Wrappers.unwrap`, a path name elsewhere than in the run's directory).
    private func pipelineBits(
        _ s: QuickScratch, _ info: NameInfo, _ first: Int, _ end: Int, depth: Int
    ) -> [UInt64]? {
        var bits = info.stageBits
        guard info.isWrapper else { return bits }
        if info.isGit && !((first + 1)..<end).contains(where: { QuickScratch.equals(s.word($0), "-c") }) {
            return bits
        }
        guard depth < 5 else { return nil }
        func or(_ more: [UInt64]) { for p in bits.indices { bits[p] |= more[p] } }
        if let start = QuickScratch.plainPayload(s, info.wrapperKind, first, end) {
            guard start < end else { return bits }
            guard let inner = lookup(s.word(start), s), let more = pipelineBits(s, inner, start, end, depth: depth + 1)
            else { return nil }
            or(more)
            return bits
        }
        for payload in Wrappers.unwrap(names: info.resolved.names, argv: s.strings(first, end), unknown: []) {
            // Text a wrapper runs (`eval bash`, `watch bash`) fills stages with its commands: the evaluator's.
            if case .script = payload { return nil }
            guard case .exec(let e) = payload, let name = e.argv.first, !e.unknown.contains(0) else { continue }
            var copy = name
            let inner: NameInfo? = copy.withUTF8 { b in
                b.contains(0x2F) || !Paths.isASCII(b) ? nil : lookup(b, s)
            }
            guard let inner, !inner.isWrapper || (inner.isGit && !e.argv.contains("-c")) else { return nil }
            or(inner.stageBits)
        }
        return bits
    }

    /// The run's cached facts about a command name; a path (`./run.sh`, `/bin/ls`) resolved against the run's
    /// directory, when `s` is still there (the evaluator resolves it the same way on every line of the run).
    @inline(__always)
    private func lookup(_ name: UnsafeBufferPointer<UInt8>, _ s: QuickScratch) -> NameInfo? {
        // A name of up to 8 bytes without `/` (nearly every one) is one integer: a direct-mapped slot.
        if name.count <= 8 && !name.contains(0x2F) {
            let v = QuickScratch.packed(name)
            let slot = Int(truncatingIfNeeded: (v &* 0x9E37_79B9_7F4A_7C15) >> 55)
            if s.shortKeys[slot] == v, let hit = s.shortInfos[slot] { return hit }
            guard let info = cache.lookup(bytes: name) ?? cachedResolve(name) else { return nil }
            s.shortKeys[slot] = v
            s.shortInfos[slot] = info
            return info
        }
        if name.contains(0x2F) {
            if name.first != 0x2F && s.cwd != s.baseCwd! { return nil }
            if let hit = s.paths.lookup(bytes: name) { return hit }
            let text = String(decoding: name, as: UTF8.self)
            let info = nameInfo(text, Paths.resolve(text, cwd: String(decoding: s.baseCwd!, as: UTF8.self)))
            s.paths.insert(text, info)
            return info
        }
        if let hit = cache.lookup(bytes: name) { return hit }
        return cachedResolve(name)
    }

    /// The run's facts about a name without `/`, resolved and cached on first sight.
    private func cachedResolve(_ name: UnsafeBufferPointer<UInt8>) -> NameInfo? {
        let info = resolve(String(decoding: name, as: UTF8.self), cwd: nil)
        return info.cached ? info : nil
    }

    /// One command (words `first..<end` of `s`) and what it wraps: no rule may match.
    private mutating func command(
        _ s: QuickScratch, _ info: NameInfo, _ first: Int, _ end: Int, depth: Int, skipText: Bool,
        readsFile: Bool = false
    ) -> Bool {
        // Its input file is one of its path operands (and of what it runs): a path rule may match it.
        if readsFile && info.candidateMatches.contains(where: { $0.hasPaths }) { return false }
        // A move into a scratch tree is judged as the delete it enables.
        if info.judgedAsDelete { return false }
        if !info.candidateMatches.isEmpty {
            s.pack(first + 1, end)
            for m in info.candidateMatches {
                if skipText && m.isTextOnly { continue }
                if mayMatch(m, s, first, end) { return false }
            }
        }
        guard info.isWrapper else { return true }
        // git wraps only what its own `-c alias.X=...` defines.
        if info.isGit {
            for w in (first + 1)..<end where QuickScratch.equals(s.word(w), "-c") { return false }
            return true
        }
        guard depth < QuickScratch.maxDepth else { return false }
        let inner = s.nested
        if info.isShell && end - first == 3 && QuickScratch.equals(s.word(first + 1), "-c") {
            // `sh -c TEXT`: what `Wrappers.unwrap` gives, read from the bytes in place.
            let text = s.word(first + 2)
            inner.cwd.removeAll(keepingCapacity: true)
            inner.cwd.append(contentsOf: s.cwd)
            return inner.lex(text) && script(inner, text: text, depth: depth + 1)
        }
        if let start = QuickScratch.plainPayload(s, info.wrapperKind, first, end) {
            // `timeout 5 CMD`, `nohup CMD`, `env A=1 CMD`, `find` without `-exec`: what `Wrappers.unwrap` gives
            // for these plain forms, without making argv `String`s.
            guard start < end else { return true }
            inner.cwd.removeAll(keepingCapacity: true)
            inner.cwd.append(contentsOf: s.cwd)
            guard inner.load(s, start, end), let info = lookup(inner.word(0), inner) else { return false }
            return command(inner, info, 0, inner.wordCount, depth: depth + 1, skipText: false, readsFile: readsFile)
        }
        let payloads = Wrappers.unwrap(names: info.resolved.names, argv: s.strings(first, end), unknown: [])
        if payloads.isEmpty { return true }
        for payload in payloads {
            inner.cwd.removeAll(keepingCapacity: true)
            inner.cwd.append(contentsOf: s.cwd)
            switch payload {
            case .exec(let e):
                guard e.unknown.isEmpty, e.chdir == nil, e.user == nil, e.program == nil, inner.load(e.argv),
                    let info = lookup(inner.word(0), inner)
                else { return false }
                guard
                    command(inner, info, 0, inner.wordCount, depth: depth + 1, skipText: false, readsFile: readsFile)
                else { return false }
            case .script(var text, let user):
                guard user == nil else { return false }
                let ok = text.withUTF8 { t in inner.lex(t) && script(inner, text: t, depth: depth + 1) }
                guard ok else { return false }
            case .unknown:
                return false
            }
        }
        return true
    }

    /// Follows `cd DIR` / `pushd DIR` as `script` does; false where the directory is not plain.
    private func changeDirectory(_ s: QuickScratch, _ from: Int, _ end: Int) -> Bool {
        var target: Int?
        for k in from..<end {
            let w = s.word(k)
            if !(w.count > 1 && w[0] == 0x2D) {
                target = k
                break
            }
        }
        guard let k = target else { return false }  // `cd` alone: home
        let t = s.word(k)
        guard let f = t.first, f != 0x7E, !(t.count == 1 && f == 0x2D) else { return false }
        guard let p = s.absolute(t) else { return false }
        s.cwd.removeAll(keepingCapacity: true)
        s.cwd.append(contentsOf: p)
        return true
    }

    /// Whether rule `m` could match the command of words `first..<end`: false only when one of its conditions
    /// provably fails.
    private func mayMatch(_ m: CompiledMatch, _ s: QuickScratch, _ first: Int, _ end: Int) -> Bool {
        if m.hasUser || !m.parent.isEmpty || !m.pipeline.isEmpty { return true }
        let args = (first + 1)..<end
        if let lits = m.argsPacked {
            // Literal patterns of up to 8 bytes: integer compares with the words packed by `pack`.
            for p in lits {
                var hit = false
                for k in args where s.packed[k] == p {
                    hit = true
                    break
                }
                if !hit { return false }
            }
        } else {
            for g in m.args {
                var hit = false
                for k in args {
                    let w = s.word(k)
                    if g.matches(bytes: w) {
                        hit = true
                        break
                    }
                    if g.namesPaths {
                        // `of=//dev/sda`, `of=sda` in /dev: also the word's resolved path.
                        switch QuickScratch.resolvedArg(w, cwd: s.cwd, into: &s.path) {
                        case .unknown: return true
                        case .none: break
                        case .path(let n):
                            hit = s.path.withUnsafeBufferPointer {
                                g.matches(bytes: UnsafeBufferPointer(rebasing: $0[0..<n]))
                            }
                        }
                        if hit { break }
                    }
                }
                if !hit { return false }
            }
        }
        for alt in m.flags {
            var hit = false
            for k in args where QuickScratch.mayBeFlag(alt, s.word(k)) {
                hit = true
                break
            }
            if !hit { return false }
        }
        if m.hasPaths {
            // Every operand is one of the words (option values are words too): a rule needs some word under one
            // of `under` (when given) and some word outside all of `outside` (when given).
            if args.isEmpty { return false }
            guard let ws = s.workspace else { return true }
            var underHit = m.under.isEmpty, outsideHit = m.outside.isEmpty
            for k in args where !(underHit && outsideHit) {
                let w = s.word(k)
                if w.first == 0x7E { return true }
                guard let p = s.absolute(w) else { return true }
                if outsideHit, let lead = m.underLead, !lead.isEmpty,
                    p.count < lead.count
                        || lead.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p.baseAddress!, $0.count) }) != 0
                {
                    continue  // under none of the prefixes, and `outside` holds already
                }
                let verdict: (Bool, Bool)? = ws.withUnsafeBufferPointer { wsb -> (Bool, Bool)? in
                    let wsp: UnsafeBufferPointer<UInt8>? = wsb.isEmpty ? nil : wsb
                    var u = false, o = false
                    var general: String?
                    // A pattern the bytes cannot decide (a glob, `**`) is tested as `pathsMatch` does.
                    func contains(_ pat: PathPattern) -> Bool {
                        if let c = pat.contains(ascii: p, workspace: wsp) { return c }
                        // A glob holds a path or an ancestor of it (or `/`): its required literal is in the path.
                        if let g = pat.glob, !g.required.isEmpty, g.required != [0x2F], !Glob.contains(p, g.required) {
                            return false
                        }
                        if general == nil { general = String(decoding: p, as: UTF8.self) }
                        return pat.contains(general!, workspace: s.workspaceString) == true
                    }
                    for pat in m.under where !u && contains(pat) { u = true }
                    for pat in m.outside where !o && contains(pat) { o = true }
                    return (u, !o)
                }
                guard let (u, out) = verdict else { return true }
                if u { underHit = true }
                if out { outsideHit = true }
            }
            if !(underHit && outsideHit) { return false }
        }
        if !m.cmdline.isEmpty || !m.regexes.isEmpty {
            // The command line: argv joined by spaces.
            s.path.removeAll(keepingCapacity: true)
            for k in first..<end {
                if k > first { s.path.append(0x20) }
                s.path.append(contentsOf: s.word(k))
            }
            if !s.path.withUnsafeBufferPointer({ QuickScratch.mayMatchText(m, $0) }) { return false }
        }
        return true
    }
}

extension QuickScratch {
    static let maxDepth = 6

    /// Scratch space for what a wrapper runs.
    var nested: QuickScratch {
        if let n = inner { return n }
        let n = QuickScratch(baseCwd: baseCwd, workspace: workspace)
        inner = n
        return n
    }

    /// Words in the last line lexed or argv loaded.
    var wordCount: Int { Int(cmdFirst[commands]) }

    /// Loads words `from..<end` of `s` as one command; false when its name is a path.
    func load(_ s: QuickScratch, _ from: Int, _ end: Int) -> Bool {
        var nv = 0
        for k in from..<end { append(s.word(k), k - from, &nv) }
        return loaded(end - from)
    }

    /// Word `k` of a loaded command, copied to `vals` at `nv`.
    @inline(__always)
    private func append(_ w: UnsafeBufferPointer<UInt8>, _ k: Int, _ nv: inout Int) {
        if let b = w.baseAddress { (vals + nv).update(from: b, count: w.count) }
        wordStart[k] = Int32(nv)
        nv += w.count
        wordEnd[k] = Int32(nv)
    }

    /// Marks the `count` words loaded as one command; false when its name is one the lexer would not take (empty,
    /// a path): the evaluator judges it.
    private func loaded(_ count: Int) -> Bool {
        cmdFirst[0] = 0
        cmdFirst[1] = Int32(count)
        pipeNext[0] = false
        readsFile[0] = false
        commands = 1
        let name = word(0)
        return !name.isEmpty && !name.contains(0x2F)
    }

    /// For a wrapper in one of its plain forms, where its payload starts (`end`: none); nil for any other form,
    /// which `Wrappers.unwrap` reads. `timeout DURATION CMD` and `nohup CMD` with no option, `env NAME=VALUE...
    /// CMD` with no option, `find` with no `-exec`, `-execdir`, `-ok` or `-okdir`.
    static func plainPayload(_ s: QuickScratch, _ kind: NameInfo.WrapperKind, _ first: Int, _ end: Int) -> Int? {
        @inline(__always) func option(_ k: Int) -> Bool { s.word(k).first == 0x2D }
        switch kind {
        case .none: return nil
        case .timeout:
            guard first + 1 < end, !option(first + 1) else { return nil }
            return min(first + 2, end)
        case .nohup:
            guard first + 1 < end, !option(first + 1) else { return nil }
            return first + 1
        case .env:
            var k = first + 1
            while k < end && !option(k) && s.word(k).contains(0x3D) { k += 1 }
            if k < end && option(k) { return nil }
            return k
        case .find:
            for k in (first + 1)..<end {
                let w = s.word(k)
                if equals(w, "-exec") || equals(w, "-execdir") || equals(w, "-ok") || equals(w, "-okdir") { return nil }
            }
            return end
        }
    }

    /// Loads `argv` as one command; false when it does not fit or a word is not ASCII.
    func load(_ argv: [String]) -> Bool {
        guard !argv.isEmpty, argv.count <= QuickScratch.maxWords else { return false }
        var nv = 0
        for (k, w) in argv.enumerated() {
            let ok = Paths.withBytes(w) { b -> Bool in
                guard nv + b.count <= QuickScratch.maxLength, Paths.isASCII(b) else { return false }
                append(b, k, &nv)
                return true
            }
            if !ok { return false }
        }
        return loaded(argv.count)
    }

    /// Whether a rule's `cmdline` and `regex` tests could hold for `text`: a glob that matches, a regex whose
    /// required literals (when known) occur.
    static func mayMatchText(_ m: CompiledMatch, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        if let needs = m.cmdlineNeeds, let base = text.baseAddress,
            !needs.contains(where: { memchr(base, Int32($0), text.count) != nil })
        {
            return false  // no pattern's rare byte: no pattern matches
        }
        if !m.cmdline.isEmpty && !m.cmdline.contains(where: { $0.matches(bytes: text) }) { return false }
        if !m.regexes.isEmpty
            && m.regexes.allSatisfy({ re in re.required.map { !$0.contains { Glob.contains(text, $0) } } ?? false })
        {
            return false
        }
        return true
    }

    static func equals(_ b: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        b.count == s.utf8CodeUnitCount && memcmp(b.baseAddress!, s.utf8Start, b.count) == 0
    }

    /// Whether `w` could carry one of `alt`'s flags: a `--` word naming (or abbreviating) one of its long names
    /// or an option that implies one (`--interactive=never`), a `-` bundle holding one of its letters (or a letter
    /// whose value may imply one: git's `-c`), or a single-dash long option.
    static func mayBeFlag(_ alt: FlagAlternatives, _ w: UnsafeBufferPointer<UInt8>) -> Bool {
        guard w.count >= 2, w[0] == 0x2D else { return false }
        if w[1] == 0x2D {
            if w.count == 2 { return false }
            var e = 2
            while e < w.count && w[e] != 0x3D { e += 1 }
            let body = UnsafeBufferPointer(rebasing: w[2..<e])
            for l in alt.longs where !body.isEmpty && isPrefix(body, of: l) { return true }
            for l in alt.impliedByLongs where !body.isEmpty && isPrefix(body, of: l) { return true }
            return false
        }
        for c in w.dropFirst() where alt.shorts.contains(c) || alt.impliedByShorts.contains(c) { return true }
        var e = 1
        while e < w.count && w[e] != 0x3D { e += 1 }
        let body = UnsafeBufferPointer(rebasing: w[1..<e])
        for l in alt.longs where l.utf8.count == body.count && isPrefix(body, of: l) { return true }
        return false
    }

    private static func isPrefix(_ b: UnsafeBufferPointer<UInt8>, of s: String) -> Bool {
        Paths.withBytes(s) { l in b.count <= l.count && memcmp(l.baseAddress!, b.baseAddress!, b.count) == 0 }
    }

    enum Resolved {
        case none, unknown
        case path(Int)
    }

    /// `Facts.resolvedPath` over bytes: the word (or the value of `name=value`) as an absolute normal path when it
    /// names one and that differs from the word.
    static func resolvedArg(_ w: UnsafeBufferPointer<UInt8>, cwd: [UInt8], into out: inout [UInt8]) -> Resolved {
        guard let first = w.first else { return .none }
        var valueStart = 0
        var eq = 0
        while eq < w.count && w[eq] != 0x3D { eq += 1 }
        if eq < w.count, eq != 0,
            w[0..<eq].allSatisfy({ c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
                    || c == 0x2D || c == 0x2E
            })
        {
            valueStart = eq + 1
        } else if first == 0x2D || !(first == 0x2E || first == 0x7E || w.contains(0x2F)) {
            return .none
        }
        let value = UnsafeBufferPointer(rebasing: w[valueStart...])
        if value.isEmpty { return .none }
        if value.first == 0x7E { return .unknown }
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: w[0..<valueStart])
        if value.first != 0x2F {
            out.append(contentsOf: cwd)
            out.append(0x2F)
        }
        out.append(contentsOf: value)
        let n: Int? = out.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress else { return nil }
            let tail = UnsafeMutableBufferPointer(start: base + valueStart, count: buf.count - valueStart)
            return Paths.normalizeInPlace(tail).map { $0 + valueStart }
        }
        guard let n else { return .unknown }
        if n == w.count && out.withUnsafeBufferPointer({ memcmp($0.baseAddress!, w.baseAddress!, n) == 0 }) {
            return .none
        }
        return .path(n)
    }
}
