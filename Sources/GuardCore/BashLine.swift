#if canImport(Glibc)
    import Glibc
#endif

/// A line an interactive bash of the guarded tree read with readline, before the shell runs it (`bash` event).
public struct BashLineEvent: Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var uid: UInt32
    public var root: Int32
    public var comm: [UInt8]
    /// The shell's controlling terminal (`pts/3`), nil when it has none.
    public var tty: String?
    /// The shell's working directory as the line was read (where the line runs).
    public var cwd: [UInt8]?
    public var line: [UInt8]
    /// Where the line is in the shell's memory (to read it whole while the shell is held).
    public var lineAddress: UInt64 = 0
    /// The line is longer than the kernel copies: `line` is its head.
    public var truncated: Bool
    /// SIGSTOP was sent before the record: the shell waits for the verdict.
    public var held: Bool
    /// The kernel killed the shell (the guard was lost and on_timeout kills, or the ring buffer was full).
    public var killedInKernel: Bool
    public var monotonicNs: UInt64
    public var time: WallTime

    public init(
        pid: Int32, ppid: Int32, uid: UInt32, root: Int32, comm: [UInt8], tty: String?, cwd: [UInt8]?, line: [UInt8],
        truncated: Bool, held: Bool, killedInKernel: Bool, monotonicNs: UInt64, time: WallTime
    ) {
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.root = root
        self.comm = comm
        self.tty = tty
        self.cwd = cwd
        self.line = line
        self.truncated = truncated
        self.held = held
        self.killedInKernel = killedInKernel
        self.monotonicNs = monotonicNs
        self.time = time
    }

    /// A terminal's name as the kernel keeps it (`pts` with its index for a pseudo-terminal), nil for none.
    public static func ttyName(_ name: [UInt8], index: Int32) -> String? {
        guard !name.isEmpty else { return nil }
        let s = String(decoding: name, as: UTF8.self)
        return s.hasPrefix("pts") && index >= 0 ? "pts/\(index)" : s
    }
}

extension EventJSON {
    /// A `bash` record: the line as the shell read it, and the violation it is, if any.
    public static func bash(_ e: BashLineEvent, violation: Violation? = nil, into w: inout JSONWriter) {
        w.beginObject()
        head("bash", time: e.time, monotonicNs: e.monotonicNs, pid: e.pid, ppid: e.ppid, uid: e.uid, comm: e.comm, into: &w)
        if let tty = e.tty { w.field("tty", tty) } else { w.fieldNull("tty") }
        if let cwd = e.cwd { w.field("cwd", bytes: cwd) } else { w.fieldNull("cwd") }
        w.field("line", bytes: e.line)
        w.field("truncated", e.truncated)
        w.field("root", e.root)
        if let v = violation { violationFields(v, into: &w) }
        w.endObject()
    }
}

extension TextFormatter {
    /// `BASH | line`, in the exec columns (claude_trace's BASH events).
    public func bashLine(_ e: BashLineEvent) -> String {
        var s = prefix(time: e.time, mono: e.monotonicNs, uid: e.uid)
        s += pad(Self.printable(e.comm), 17) + pad(String(e.pid), 8) + pad(String(e.ppid), 8) + pad("-", 4)
        s += "BASH | " + Self.printable(e.line)
        if e.truncated { s += " ..." }
        return s
    }

    public func bashViolationLine(_ e: BashLineEvent, _ v: Violation) -> String {
        "!! \(v.enforced.uppercased()) pid \(e.pid) (bash line) rule \(v.rule) (\(v.severity)): "
            + Self.printable(Array(v.matched.utf8))
    }
}

/// What the guard knows of one interactive bash: the command it is still reading (bash reads a `for` loop, a
/// quoted newline or a here-document over several lines and runs nothing before the last), and the aliases and
/// functions its earlier lines defined, so a later line that calls one is judged with what it runs.
public struct InteractiveShell: Sendable {
    /// Lines read of a command that goes on.
    public private(set) var pending = ""
    /// `alias NAME=VALUE` seen in lines the guard let run.
    public private(set) var aliases: [String: String] = [:]
    /// Each function defined in a line the guard let run: the text of that line (the definition is in it).
    public private(set) var functions: [String: String] = [:]

    /// At most this many texts are judged for one command (aliases and functions calling each other).
    static let maxPayloads = 32

    public init() {}

    /// Adds a line; returns the command read so far (the pending lines and this one).
    public mutating func read(_ line: String) -> String {
        let text = pending.isEmpty ? line : pending + "\n" + line
        pending = ""
        return text
    }

    /// The command is not complete: bash reads another line before it runs any of it.
    public mutating func goesOn(_ text: String) { pending = text }

    /// Whether `text` stops short of a complete command (an open quote, loop, brace, here-document or `\`).
    public static func incomplete(_ text: String) -> Bool {
        if text.hasSuffix("\\") && !text.hasSuffix("\\\\") { return true }
        let script = ShellScript.parse(text)
        if let error = script.error {
            return error.offset >= text.utf8.count || error.message.contains("end of text")
                || error.message.contains("unterminated")
        }
        // A here-document goes on until its delimiter line (the parser reads a missing one as the end of text).
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
        for c in script.commands {
            for r in c.redirections where r.op == "<<" || r.op == "<<-" {
                let ended = lines.contains { line in
                    (r.op == "<<-" ? line.drop { $0 == "\t" } : line[...]) == r.target.text[...]
                }
                if !ended { return true }
            }
        }
        return false
    }

    /// The texts to judge for a command: itself, then the value of each alias it calls (with the call's
    /// arguments) and the definition of each function it calls, transitively.
    public func payloads(_ text: String) -> [String] {
        var out = [text]
        var seen: Set<String> = [text]
        var k = 0
        while k < out.count && out.count < Self.maxPayloads {
            for c in ShellScript.parse(out[k]).commands {
                guard let name = c.argv.first, c.unknown.first != 0 else { continue }
                var more: String?
                if let value = aliases[name] {
                    more = ([value] + c.argv.dropFirst().map(shellQuote)).joined(separator: " ")
                } else if let body = functions[name] {
                    more = Self.substitutingArguments(body, Array(c.argv.dropFirst()), unknown: c.unknown.contains { $0 > 0 })
                }
                if let more, seen.insert(more).inserted, out.count < Self.maxPayloads { out.append(more) }
            }
            k += 1
        }
        return out
    }

    /// A function's definition with the call's arguments for `$1`…`$9`, `$@` and `$*` (quoted), so a redirection
    /// or operand written with them is judged where it points; unchanged when an argument is not known.
    static func substitutingArguments(_ body: String, _ args: [String], unknown: Bool) -> String {
        guard !unknown, !args.isEmpty else { return body }
        var out = body
        let all = args.map(shellQuote).joined(separator: " ")
        for form in ["\"$@\"", "\"$*\"", "\"${@}\"", "$@", "$*"] { out = out.replacing(form, with: all) }
        for i in stride(from: 9, through: 1, by: -1) {
            let arg = i <= args.count ? shellQuote(args[i - 1]) : "''"
            for form in ["\"$\(i)\"", "\"${\(i)}\"", "${\(i)}", "$\(i)"] { out = out.replacing(form, with: arg) }
        }
        return out
    }

    /// A command the guard let run: remembers the aliases and functions it defines and forgets those it removes.
    public mutating func learn(_ text: String) {
        let script = ShellScript.parse(text)
        for c in script.commands {
            guard let name = c.argv.first, c.unknown.first != 0 else { continue }
            let args = c.argv.dropFirst()
            switch name {
            case "alias":
                for a in args {
                    guard let eq = a.firstIndex(of: "="), eq != a.startIndex else { continue }
                    aliases[String(a[..<eq])] = String(a[a.index(after: eq)...])
                }
            case "unalias":
                if args.contains("-a") { aliases.removeAll() }
                for a in args { aliases[a] = nil }
            case "unset":
                if args.contains("-f") { for a in args where !a.hasPrefix("-") { functions[a] = nil } }
            default:
                break
            }
        }
        for name in Self.functionNames(text) { functions[name] = text }
    }

    /// Names of the functions a text defines (`name() …`, `function name …`).
    static func functionNames(_ text: String) -> [String] {
        var names: [String] = []
        let b = Array(text.utf8)
        func isNameByte(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || [UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":")].contains(c)
        }
        func skipSpaces(_ i: inout Int) { while i < b.count && (b[i] == ASCII.space || b[i] == ASCII.tab) { i += 1 } }
        var i = 0
        while i < b.count {
            guard isNameByte(b[i]), i == 0 || !isNameByte(b[i - 1]) else {
                i += 1
                continue
            }
            var j = i
            while j < b.count && isNameByte(b[j]) { j += 1 }
            let word = String(decoding: b[i..<j], as: UTF8.self)
            var k = j
            skipSpaces(&k)
            if word == "function" {
                var s = k
                while s < b.count && isNameByte(b[s]) { s += 1 }
                if s > k { names.append(String(decoding: b[k..<s], as: UTF8.self)) }
            } else if k + 1 < b.count && b[k] == UInt8(ascii: "(") {
                var m = k + 1
                skipSpaces(&m)
                if m < b.count && b[m] == UInt8(ascii: ")") { names.append(word) }
            }
            i = j
        }
        return names
    }
}

extension Policy {
    /// Judges a command typed into an interactive bash as the `bash -c` payload it is, before the shell runs it:
    /// the command and what its aliases and functions run (`shell.payloads`), and the files its redirections
    /// write or read, by the file rules, for the shell's program. A file rule that would deny the redirection
    /// makes the whole command a `kill`: the shell cannot run part of a line.
    ///
    /// - Parameters:
    ///   - shellPath: the shell's executable (a file rule's `process:` names it).
    ///   - home: the shell's `$HOME`, for `~` in redirections (nil: the guard's).
    public func judgeInteractive(
        _ text: String, shell: InteractiveShell, shellPath: String, cwd: String?, uid: UInt32?, workspace: String?,
        parent: ExecContext?, home: String? = nil
    ) -> Verdict {
        var best = Verdict(action: .allow)
        for payload in shell.payloads(text) {
            let v = evaluate(commandLine: payload, cwd: cwd, workspace: workspace, uid: uid, parent: parent)
            if v.action > best.action { best = v }
            for r in redirectionVerdicts(payload, shellPath: shellPath, cwd: cwd, workspace: workspace, home: home)
            where r.action > best.action {
                best = r
            }
        }
        return best
    }

    /// The file-rule verdicts of a text's redirections to files whose names are known, with the accesses the
    /// kernel would see: `>` creates a missing file, truncates and writes a regular one, only writes a device.
    func redirectionVerdicts(_ text: String, shellPath: String, cwd: String?, workspace: String?, home: String?)
        -> [Verdict]
    {
        guard !fileRules.isEmpty else { return [] }
        var out: [Verdict] = []
        for c in ShellScript.parse(text).commands {
            for r in c.redirections where r.target.isKnown {
                let writes: Bool
                switch r.op {
                case ">", ">|", "&>", ">>", "&>>", "<>": writes = true
                case ">&": writes = Int(r.target.text) == nil && r.target.text != "-"
                case "<": writes = false
                default: continue
                }
                if r.op == ">&" && !writes { continue }
                var path = r.target.text
                if path.hasPrefix("~") {
                    path = home.map { h in path == "~" || path.hasPrefix("~/") ? h + path.dropFirst() : path }
                        ?? Paths.tildeExpanded(path)
                }
                if !path.hasPrefix("/") { path = (cwd ?? "/") + "/" + path }
                var accesses: [FileAccess] = r.op == "<" || r.op == "<>" ? [.read] : []
                if writes {
                    var st = stat()
                    if stat(path, &st) != 0 {
                        accesses.append(.create)
                    } else if st.st_mode & S_IFMT == S_IFREG {
                        accesses += r.op.hasSuffix(">>") || r.op == "<>" ? [.write] : [.truncate, .write]
                    } else {
                        accesses.append(.write)
                    }
                }
                for a in accesses {
                    guard let rule = judgeFile(path: path, access: a, processPath: shellPath, workspace: workspace),
                        rule.action != .allow
                    else { continue }
                    out.append(
                        Verdict(
                            action: rule.action >= .deny ? .kill : .alert, rule: rule.id,
                            severity: rule.severity ?? rule.action.defaultSeverity, matched: text,
                            description: rule.description ?? "\(a.rawValue) of \(path) (file rule)"))
                    break
                }
            }
        }
        return out
    }
}
