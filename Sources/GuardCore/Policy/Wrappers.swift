import Foundation

/// What a wrapper or shell runs: the payload evaluated as if it were executed.
enum Payload: Sendable, Equatable {
    /// A program run with this argv (`timeout 5 rm -rf x` runs `rm -rf x`).
    case exec(Exec)
    /// Shell text run by a shell (`sh -c STRING`, `eval`, `watch CMD`, `script -c`, `flock -c`, `su -c`).
    case script(String, user: String?)
    /// A payload exists but its text or name cannot be known statically (`sh -c "$X"`, `eval $CMD`).
    case unknown(String)

    struct Exec: Sendable, Equatable {
        var argv: [String]
        var unknown: [Int] = []
        /// Working directory the wrapper switches to (`env -C`, `sudo -D`, `unshare -w`).
        var chdir: String?
        /// User the payload runs as (`sudo -u NAME`, `doas`, `su`): "root" unless named.
        var user: String?
        /// The file that runs, when argv[0] does not name it: a runner's operand (`ld.so /bin/rm`, `qemu-x86_64
        /// ./rm` with argv[0] set by `--argv0`/`-0`), loaded without an exec of its own, so it is never judged
        /// at an exec; a path, relative to the working directory (a bare name is found over PATH).
        var program: String?
    }
}

/// What a command reads as standard input, as far as its own text says: a here-string's word or a
/// here-document's text (see `SimpleCommand.stdinText`).
struct Stdin: Sendable {
    /// The text, or the source text of a here-string word whose value is `unknown` statically.
    var text: String?
    var unknown = false
}

/// Knows the wrappers and shells whose payload is evaluated as if executed: what each runs is read from its
/// `Program` entry (`Wrapping`) through the one argument walker, `ParsedArgs`.
enum Wrappers {
    /// Shells whose `-c STRING` is parsed as shell text.
    static let shells: Set<String> = Programs.shellNames

    /// Every program name this module unwraps.
    static let names: Set<String> = Programs.wrapperNames

    /// Whether the program `name` (a basename) wraps or runs another: a wrapper or shell of `names`, or a runner
    /// (`Runners`: the dynamic loader, valgrind, qemu, ...).
    static func wraps(_ name: String) -> Bool { names.contains(name) || Runners.kind(of: name) != nil }

    /// The payloads of a command whose program is known by `names` (basenames), or [] when it wraps nothing.
    ///
    /// A program known by several wrapper names (a copy of the loader named `timeout`, known by content as the
    /// loader) runs what any of them would: the payloads of each, once.
    static func unwrap(names: [String], argv: [String], unknown: [Int], stdin: Stdin = Stdin()) -> [Payload] {
        guard argv.count >= 1 else { return [] }
        var kind: String?
        var more: [String] = []
        for n in names where Wrappers.wraps(n) {
            if kind == nil { kind = n } else if n != kind && !more.contains(n) { more.append(n) }
        }
        guard let kind else { return [] }
        var out = unwrap(kind: kind, names: names, argv: argv, unknown: unknown, stdin: stdin)
        for k in more {
            for p in unwrap(kind: k, names: names, argv: argv, unknown: unknown, stdin: stdin) where !out.contains(p) {
                out.append(p)
            }
        }
        return out
    }

    /// The payloads of the wrapper `kind` (one of `names`).
    private static func unwrap(
        kind: String, names: [String], argv: [String], unknown: [Int], stdin: Stdin
    ) -> [Payload] {
        // git is the most common of these by far, and nearly always wraps nothing: test it first.
        if kind == "git" && !(argv.count > 3 && argv.contains("-c")) { return [] }
        guard let program = Programs.lookup(kind), let w = program.wraps else { return [] }
        let a = Args(argv: argv, unknown: unknown)
        switch w.runs {
        case .runner(let r): return Runners.unwrap(r, a)
        case .shell: return shell(program.syntax, a, stdin: stdin)
        case .own(.su): return su(program, a)
        case .own(.find): return find(program, a)
        case .own(.busybox): return busybox(names: names, a)
        case .own(.git): return gitAlias(a)
        case .own(.parallel): return parallel(program, a)
        case .operands, .text, .nothing: return wrapped(program.syntax, w, a)
        }
    }

    /// What a wrapper of a plain `Wrapping` runs: its `text` options' text, and its operands after the skipped
    /// ones (past `NAME=VALUE` assignments) as a program, as shell text, or not at all.
    private static func wrapped(_ syntax: OptionSyntax, _ w: Wrapping, _ a: Args) -> [Payload] {
        let argv = a.argv
        let p = ParsedArgs(argv: argv, syntax: syntax, unknown: a.unknown, recording: true, start: w.start)
        if p.has(w.inert) { return [] }
        if let s = p.last(w.split), let v = s.valueIndex {
            // `env -S 'rm -rf' x` is `env rm -rf x`: the words stand in place of the option, read again.
            if a.isUnknown(v) { return [.unknown(s.value ?? "")] }
            let words = (s.value ?? "").split(separator: " ").map(String.init)
            let inner = Array(argv[..<s.index]) + words + Array(argv[(v + 1)...])
            let shift = words.count - (v + 1 - s.index)
            let unknown = a.unknown.filter { $0 < s.index || $0 > v }.map { $0 > v ? $0 + shift : $0 }
            var unsplit = w
            unsplit.split = []
            return wrapped(syntax, unsplit, Args(argv: inner, unknown: unknown))
        }
        var out: [Payload] = []
        if let t = p.last(w.text), let v = t.valueIndex { out += a.scriptText(t.value ?? "", index: v) }
        var i = p.optionsEnd
        if !w.runsNothing {
            i += !w.skipUnless.isEmpty && p.has(w.skipUnless) ? 0 : w.skip
            if w.assignments {
                // (env's lone `-` after its options is its `-i`.)
                if i < argv.count, argv[i] == "-", !a.isUnknown(i) { i += 1 }
                while i < argv.count, !a.isUnknown(i), Wrappers.isAssignment(argv[i]) { i += 1 }
            }
        }
        let user = p.last(w.user)?.value ?? w.defaultUser
        if i < argv.count, !a.isUnknown(i), let t = w.textWords.first(where: { argv[i].hasPrefix($0) }) {
            // `flock FILE -c TEXT`; `--command=TEXT` is read as its text too.
            if argv[i] == t {
                out += i + 1 < argv.count ? a.scriptWord(i + 1) : []
                return user.map { out.withUser($0) } ?? out
            }
            if t.hasPrefix("--"), argv[i].hasPrefix(t + "=") {
                out += a.scriptText(String(argv[i].dropFirst(t.count + 1)), index: i)
                return user.map { out.withUser($0) } ?? out
            }
        }
        var runs = w.runs
        if p.has(w.asText) { runs = .text }
        if p.has(w.asOperands) { runs = .operands }
        switch runs {
        case .operands:
            if let r = p.last(w.replace) {
                // Each input item stands in place of the replace string: the words holding it are unknown here.
                let marker = r.value ?? "{}"
                var inner = i < argv.count ? Array(argv[i...]) : w.otherwise
                var unknown = a.unknown.filter { $0 >= i }.map { $0 - i }
                for (k, word) in inner.enumerated() where word.contains(marker) && !unknown.contains(k) {
                    unknown.append(k)
                }
                if inner.isEmpty { inner = w.otherwise }
                out.append(.exec(Payload.Exec(argv: inner, unknown: unknown.sorted())))
            } else if i >= argv.count, !w.otherwise.isEmpty {
                // The words xargs appends from stdin are unknown here; the real exec of the payload is checked.
                out.append(.exec(Payload.Exec(argv: w.otherwise)))
            } else {
                out += a.rest(from: i, chdir: p.last(w.chdir).map { $0.value ?? "" }, user: nil)
            }
        case .text: out += a.joinedScript(from: i)
        default: break
        }
        return user.map { out.withUser($0) } ?? out
    }

    /// A `NAME=VALUE` word (an environment assignment to env or sudo).
    static func isAssignment(_ word: String) -> Bool {
        guard let eq = word.firstIndex(of: "="), eq != word.startIndex else { return false }
        return word[..<eq].allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }

    // MARK: - Individual wrappers

    /// A shell's payload: its `-c` text (the first operand after its options), else what it reads on standard
    /// input (`-s`, or no operand; a first operand without `-c` or `-s` is a script file, whose commands are
    /// judged at their own execs). Options are read as that shell reads them (`OptionSyntax`): they end at the
    /// first operand (`bash SCRIPT -c X` runs SCRIPT with `-c X` as its arguments), at `--` or `-`; `+c` is
    /// `-c` too; `-o NAME`/`+o NAME` take a value.
    private static func shell(_ syntax: OptionSyntax, _ a: Args, stdin: Stdin) -> [Payload] {
        let p = ParsedArgs(argv: a.argv, syntax: syntax, unknown: a.unknown)
        let i = p.optionsEnd
        let hasC = p.hasShort(UInt8(ascii: "c"))
        if i < a.argv.count && a.isUnknown(i) { return hasC ? [.unknown(a.argv[i])] : [] }
        if hasC { return i < a.argv.count ? a.scriptWord(i) : [] }
        if i < a.argv.count && !p.hasShort(UInt8(ascii: "s")) { return [] }
        if stdin.unknown { return [.unknown(stdin.text ?? "")] }
        if let text = stdin.text { return [.script(text, user: nil)] }
        return []
    }

    /// The index in argv of the `-c` text of the shell `kind`, or nil when it runs none: the one `sh -c`
    /// detector, read by the evaluator, the event display and the linker of held execs.
    static func shellCommandIndex(_ kind: String, argv: [String]) -> Int? {
        guard let program = Programs.lookup(kind), program.isShell else { return nil }
        let p = ParsedArgs(argv: argv, syntax: program.syntax, unknown: [])
        return p.hasShort(UInt8(ascii: "c")) && p.optionsEnd < argv.count ? p.optionsEnd : nil
    }

    /// su runs its `-c` text through the shell of the user its first operand names (root without one); runuser
    /// with `-u USER` runs its operands as a program, without a shell.
    private static func su(_ program: Program, _ a: Args) -> [Payload] {
        guard let w = program.wraps else { return [] }
        let p = ParsedArgs(argv: a.argv, syntax: program.syntax, unknown: a.unknown, recording: true)
        if let u = p.last(w.user) {
            guard let first = p.operands.first else { return [] }
            return a.rest(from: first, user: u.value ?? "root")
        }
        let user = p.operands.first { a.argv[$0] != "-" && !a.isUnknown($0) }.map { a.argv[$0] }
        guard let t = p.last(w.text), let v = t.valueIndex else { return [] }
        return a.scriptText(t.value ?? "", index: v).withUser(user ?? w.defaultUser ?? "root")
    }

    /// Busybox picks its applet by argv[0] (its basename, a login shell's `-` dropped): run as /bin/busybox with
    /// argv[0] "rm", it is rm; a name that begins with "busybox" (a copy named busybox2 too) takes the applet
    /// from argv[1].
    private static func busybox(names: [String], _ a: Args) -> [Payload] {
        let argv = a.argv
        var argv0Name = Substring(Paths.basename(argv[0]))
        if argv0Name.hasPrefix("-") { argv0Name = argv0Name.dropFirst() }
        if !argv0Name.hasPrefix("busybox"), !argv0Name.isEmpty {
            // Run through a link of the applet's name (`/bin/rm` -> busybox), rules saw that name already.
            if names.contains(String(argv0Name)) { return [] }
            var inner = argv
            inner[0] = String(argv0Name)
            return a.applet(inner)
        }
        if argv.count > 1 && (argv[1] == "--install" || argv[1] == "--list" || argv[1] == "--help") { return [] }
        return a.rest(from: 1)
    }

    /// git's own options before its subcommand, as far as the aliases need them: `-c` and `-C` and the long
    /// options that take the next word.
    static let gitGlobal = OptionSyntax(
        short: "cC", long: ["git-dir", "work-tree", "namespace", "attr-source", "config-env"], optionsFirst: true)

    /// `git -c alias.NAME=VALUE NAME ARGS` runs the git command VALUE stands for (`!TEXT`: shell text git runs
    /// with sh), so that is the payload, judged before git starts. (git 2.39 then re-executes itself with the
    /// expansion, which is judged again at that exec; a git that dispatches in process would not.) Alias names
    /// are case-insensitive and a later `-c` wins, as in git. Aliases from config files are not in argv.
    private static func gitAlias(_ a: Args) -> [Payload] {
        let argv = a.argv
        let p = ParsedArgs(argv: argv, syntax: gitGlobal, unknown: a.unknown, recording: true)
        var aliases: [(name: String, value: String, index: Int)] = []
        for o in p.options where o.name == "c" {
            guard let v = o.valueIndex, !a.isUnknown(v), let kv = o.value else { continue }
            if kv.utf8.count > 6, kv.prefix(6).lowercased() == "alias.", let eq = kv.firstIndex(of: "=") {
                let name = kv[kv.index(kv.startIndex, offsetBy: 6)..<eq].lowercased()
                aliases.append((name, String(kv[kv.index(after: eq)...]), v))
            }
        }
        let i = p.optionsEnd
        guard !aliases.isEmpty, i < argv.count, !a.isUnknown(i),
            let alias = aliases.last(where: { $0.name == argv[i].lowercased() })
        else { return [] }
        if alias.value.hasPrefix("!") { return a.scriptText(String(alias.value.dropFirst()), index: alias.index) }
        let words = ShellScript.parse(alias.value).commands.first?.argv ?? []
        guard !words.isEmpty else { return [] }
        let inner = Array(argv[..<i]) + words + Array(argv[(i + 1)...])
        let unknown = a.unknown.filter { $0 != i }.map { $0 < i ? $0 : $0 - 1 + words.count }
        return [.exec(Payload.Exec(argv: inner, unknown: unknown))]
    }

    /// find's `-exec CMD ;`, `-execdir`, `-ok`, `-okdir` (its `commandOptions`; and `CMD {} +`): each runs CMD
    /// with `{}` standing for each file found, at least the start points (its leading operands) themselves.
    private static func find(_ program: Program, _ a: Args) -> [Payload] {
        let argv = a.argv
        let p = ParsedArgs(argv: argv, syntax: program.syntax, unknown: a.unknown)
        var starts = p.operands.map { argv[$0] }
        if starts.isEmpty { starts = ["."] }
        let commands = program.wraps?.commandOptions ?? []
        var out: [Payload] = []
        var i = (p.operands.last ?? 0) + 1
        while i < argv.count {
            let w = argv[i]
            i += 1
            guard w.hasPrefix("-"), commands.contains(where: { w.utf8.dropFirst().elementsEqual($0.utf8) }) else {
                continue
            }
            var inner: [String] = []
            var unknown: [Int] = []
            while i < argv.count, argv[i] != ";", argv[i] != "+" || inner.last != "{}" {
                if a.isUnknown(i) { unknown.append(inner.count) }
                inner.append(argv[i])
                i += 1
            }
            i += 1
            guard !inner.isEmpty else { continue }
            for s in starts {
                let replaced = inner.map { $0.replacingOccurrences(of: "{}", with: s) }
                out.append(.exec(Payload.Exec(argv: replaced, unknown: unknown)))
            }
        }
        return out
    }

    /// Most argument combinations of `parallel ... ::: A B ::: C D` judged; more are judged at their own execs.
    static let parallelLimit = 64

    /// GNU parallel runs its command (its words joined, as shell text) once per argument, or combination of
    /// arguments, of its `:::` groups: the argument (quoted) stands for `{}` (or `{N}` for group N) and is
    /// appended when there is none. Without a command each argument is itself a command line. Arguments read
    /// from files (`::::`, `-a`) or standard input are unknown here: the command is judged with `{}` unknown, and
    /// the real execs are judged when they happen.
    private static func parallel(_ program: Program, _ a: Args) -> [Payload] {
        let argv = a.argv
        let p = ParsedArgs(argv: argv, syntax: program.syntax, unknown: a.unknown, recording: true)
        if p.has(program.wraps?.inert ?? []) { return [] }
        let separators: Set<String> = [":::", ":::+", "::::", "::::+"]
        var i = p.optionsEnd
        var command: [String] = []
        while i < argv.count, !separators.contains(argv[i]) {
            if a.isUnknown(i) { return [.unknown(argv[i])] }
            command.append(argv[i])
            i += 1
        }
        // Each group's arguments as written (a command line each, without a command) and quoted (an argument
        // of the command). An unknown argument is written as its source text, which the shell reads as unknown.
        var groups: [[(raw: String, quoted: String)]] = []
        var fromFiles = i >= argv.count
        while i < argv.count {
            let files = argv[i].hasPrefix("::::")
            var group: [(raw: String, quoted: String)] = []
            i += 1
            while i < argv.count, !separators.contains(argv[i]) {
                group.append((argv[i], a.isUnknown(i) ? argv[i] : shellQuote(argv[i])))
                i += 1
            }
            if files { fromFiles = true } else { groups.append(group) }
        }
        let marker = p.last(program.wraps?.replace ?? [])?.value ?? "{}"
        let text = command.joined(separator: " ")
        func line(_ combo: [(raw: String, quoted: String)]) -> String {
            if command.isEmpty { return combo.map(\.raw).joined(separator: " ") }
            let args = combo.map(\.quoted)
            var out = text
            var replaced = false
            for (k, arg) in args.enumerated() where out.contains("{\(k + 1)}") {
                out = out.replacingOccurrences(of: "{\(k + 1)}", with: arg)
                replaced = true
            }
            if out.contains(marker) {
                out = out.replacingOccurrences(of: marker, with: args.joined(separator: " "))
                replaced = true
            }
            return replaced ? out : out + " " + args.joined(separator: " ")
        }
        var out: [Payload] = []
        if fromFiles && !command.isEmpty {
            out.append(.script(line([("", "\"$PARALLEL_ARGUMENT\"")]), user: nil))
        }
        var combos: [[(raw: String, quoted: String)]] = groups.isEmpty ? [] : [[]]
        for g in groups {
            combos = combos.flatMap { c in g.map { c + [$0] } }
            if combos.count > parallelLimit { combos = Array(combos.prefix(parallelLimit)) }
        }
        for c in combos where !c.isEmpty {
            let payload = Payload.script(line(c), user: nil)
            if !out.contains(payload) { out.append(payload) }
        }
        return out
    }
}

/// argv with its unknown-word indices, and the payloads the wrappers make of its words.
struct Args {
    let argv: [String]
    let unknown: [Int]

    func isUnknown(_ i: Int) -> Bool { !unknown.isEmpty && unknown.contains(i) }

    func rest(from i: Int, chdir: String? = nil, user: String? = nil) -> [Payload] {
        guard i < argv.count else { return [] }
        if isUnknown(i) { return [.unknown(argv[i])] }
        let unknownInner = unknown.filter { $0 >= i }.map { $0 - i }
        return [.exec(Payload.Exec(argv: Array(argv[i...]), unknown: unknownInner, chdir: chdir, user: user))]
    }

    /// A busybox applet run under its own name: argv with argv[0] replaced by the applet name.
    func applet(_ inner: [String]) -> [Payload] {
        [.exec(Payload.Exec(argv: inner, unknown: unknown.filter { $0 > 0 }))]
    }

    func scriptWord(_ i: Int) -> [Payload] {
        if isUnknown(i) { return [.unknown(argv[i])] }
        return [.script(argv[i], user: nil)]
    }

    func scriptText(_ text: String, index: Int) -> [Payload] {
        if isUnknown(index) { return [.unknown(text)] }
        return [.script(text, user: nil)]
    }

    func joinedScript(from i: Int) -> [Payload] {
        guard i < argv.count else { return [] }
        for k in i..<argv.count where isUnknown(k) { return [.unknown(argv[i...].joined(separator: " "))] }
        // One word (`eval 'CMD'`, the common case) is the script itself: joining would copy it.
        if i == argv.count - 1 { return [.script(argv[i], user: nil)] }
        return [.script(argv[i...].joined(separator: " "), user: nil)]
    }
}

extension Array where Element == Payload {
    func withUser(_ user: String) -> [Payload] {
        map { p in
            switch p {
            case .exec(var e):
                e.user = e.user ?? user
                return .exec(e)
            case .script(let s, let u):
                return .script(s, user: u ?? user)
            case .unknown:
                return p
            }
        }
    }
}
