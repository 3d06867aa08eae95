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

/// Knows the wrappers and shells whose payload is evaluated as if executed.
enum Wrappers {
    /// Shells whose `-c STRING` is parsed as shell text.
    static let shells: Set<String> = [
        "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "rbash", "lksh",
    ]

    /// Every program name this module unwraps.
    static let names: Set<String> = shells.union([
        "env", "nohup", "timeout", "nice", "ionice", "stdbuf", "setsid", "time", "command", "exec", "xargs", "sudo",
        "doas", "busybox", "flock", "chroot", "unshare", "watch", "script", "find", "eval", "su", "runuser",
        "taskset", "strace", "ltrace", "builtin", "chrt", "cpulimit", "nsenter", "git",
    ])

    /// Whether the program `name` (a basename) wraps or runs another: a wrapper or shell of `names`, or a runner
    /// (`Runners`: the dynamic loader, valgrind, qemu-user, ...).
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
    )
        -> [Payload]
    {
        if let runner = Runners.kind(of: kind) {
            var a = Args(argv: argv, unknown: unknown)
            return Runners.unwrap(runner, &a)
        }
        // git is the most common of these by far, and nearly always wraps nothing: test it first.
        if kind == "git" {
            guard argv.count > 3, argv.contains("-c") else { return [] }
            var a = Args(argv: argv, unknown: unknown)
            return gitAlias(&a)
        }
        var a = Args(argv: argv, unknown: unknown)
        if shells.contains(kind) { return shell(kind, &a, stdin: stdin) }
        switch kind {
        case "busybox":
            // Busybox picks its applet by argv[0] (its basename, a login shell's `-` dropped): run as /bin/busybox
            // with argv[0] "rm", it is rm; a name that begins with "busybox" (a copy named busybox2 too) takes the
            // applet from argv[1].
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
        case "eval":
            return a.joinedScript(from: 1)
        case "builtin":
            return a.rest(from: 1)
        case "env": return env(&a)
        case "nohup": return a.skipOptions(valueShorts: "", longs: Long.nohup, from: 1).map { a.rest(from: $0) } ?? []
        case "timeout":
            guard let i = a.skipOptions(valueShorts: "sk", longs: Long.timeout, from: 1) else {
                return []
            }
            return a.rest(from: i + 1)  // skip DURATION
        case "nice":
            var i = 1
            while i < argv.count {
                let w = argv[i]
                if w == "--" {
                    i += 1
                    break
                }
                if w.hasPrefix("--") {
                    i += a.long(i, Long.nice).words
                } else if w == "-n" {
                    i += 2
                } else if w.hasPrefix("-") && w.count > 1 {
                    i += 1
                } else {
                    break
                }
            }
            return a.rest(from: i)
        case "ionice":
            if argv.contains("-p") || argv.contains("-P") || argv.contains("-u") { return [] }
            guard let i = a.skipOptions(valueShorts: "cnpPu", longs: Long.ionice, from: 1) else {
                return []
            }
            return a.rest(from: i)
        case "stdbuf":
            guard let i = a.skipOptions(valueShorts: "ioe", longs: Long.stdbuf, from: 1) else {
                return []
            }
            return a.rest(from: i)
        case "setsid":
            guard let i = a.skipOptions(valueShorts: "", longs: Long.setsid, from: 1) else { return [] }
            return a.rest(from: i)
        case "time":
            guard let i = a.skipOptions(valueShorts: "fo", longs: Long.time, from: 1) else { return [] }
            return a.rest(from: i)
        case "command":
            var i = 1
            while i < argv.count, argv[i].hasPrefix("-"), argv[i] != "-" {
                if argv[i] == "--" {
                    i += 1
                    break
                }
                if argv[i].contains("v") || argv[i].contains("V") { return [] }
                i += 1
            }
            return a.rest(from: i)
        case "exec":
            guard let i = a.skipOptions(valueShorts: "a", longs: .none, from: 1) else { return [] }
            return a.rest(from: i)
        case "xargs": return xargs(&a)
        case "sudo": return sudo(&a)
        case "doas":
            if argv.contains("-C") { return [] }
            guard let i = a.skipOptions(valueShorts: "uC", longs: .none, from: 1) else { return [] }
            let user = a.optionValue(short: "u", before: i) ?? "root"
            if argv[1..<i].contains("-s") && i >= argv.count { return [] }
            return a.rest(from: i, user: user)
        case "flock": return flock(&a)
        case "chroot":
            guard let i = a.skipOptions(valueShorts: "", longs: Long.chroot, from: 1) else { return [] }
            return a.rest(from: i + 1)  // skip NEWROOT
        case "unshare", "nsenter":
            // Options that take a separate value: unshare -R -w -S -G; nsenter -t -S -G -W (its -r/-w only attached).
            let unshare = kind == "unshare"
            guard
                let i = a.skipOptions(
                    valueShorts: unshare ? "RwSG" : "tSGW", longs: unshare ? Long.unshare : Long.nsenter, from: 1)
            else { return [] }
            return a.rest(from: i)
        case "watch":
            var execMode = false
            var i = 1
            while i < argv.count {
                let w = argv[i]
                if w == "--" {
                    i += 1
                    break
                }
                guard w.hasPrefix("-"), w.count > 1 else { break }
                if w.hasPrefix("--") {
                    let o = a.long(i, Long.watch)
                    if o.name == "exec" { execMode = true }
                    i += o.words
                    continue
                }
                let o = a.short(i, values: ByteMask("nq"))  // -n SECS, -q CYCLES
                if o.flags.contains(0x78) { execMode = true }  // -x
                i += o.words
            }
            if execMode { return a.rest(from: i) }
            return a.joinedScript(from: i)
        case "script":
            var i = 1
            while i < argv.count {
                let w = argv[i]
                if w == "--" { return [] }  // what follows is the log file
                if w.hasPrefix("--") {
                    let o = a.long(i, Long.script)
                    if o.name == "command" { return a.command(o, at: i) }
                    i += o.words
                    continue
                }
                if w.hasPrefix("-") && w.count > 1 {
                    // A bundle such as -qc CMD, or -cCMD with the command attached; -E -I -O -B -T -m -o take a
                    // value; -t takes only an attached one.
                    let o = a.short(i, values: ByteMask("cEIOBTmo"), attachedOnly: ByteMask("t"))
                    if o.letter == 0x63 { return a.script(o, at: i) }
                    i += o.words
                    continue
                }
                i += 1
            }
            return []
        case "su", "runuser":
            // su [options] [-] [USER [ARG...]]: -c runs its text through USER's shell. runuser -u USER [--] CMD
            // runs CMD itself, without a shell.
            let table = kind == "runuser" ? Long.runuser : Long.su
            var user: String?
            var userMode = false
            var i = 1
            var script: [Payload] = []
            while i < argv.count {
                let w = argv[i]
                if w == "--" {
                    i += 1
                    if userMode { return a.rest(from: i, user: user ?? "root") }
                    continue
                }
                if w.hasPrefix("--") {
                    let o = a.long(i, table)
                    if o.name == "command" || o.name == "session-command" { script = a.command(o, at: i) }
                    if o.name == "user" {
                        user = o.value ?? user
                        userMode = true
                    }
                    i += o.words
                    continue
                }
                if w.hasPrefix("-") && w.count > 1 {
                    // -c TEXT; -s -g -G -w (and runuser's -u) take a value.
                    let o = a.short(i, values: ByteMask(kind == "runuser" ? "csgGwu" : "csgGw"))
                    if o.letter == 0x63 { script = a.script(o, at: i) }
                    if o.letter == 0x75 {
                        user = o.value ?? user
                        userMode = true
                    }
                    i += o.words
                    continue
                }
                if userMode { return a.rest(from: i, user: user ?? "root") }
                if w != "-" && user == nil { user = w }
                i += 1
            }
            return script.withUser(user ?? "root")
        case "find": return find(&a)
        case "taskset":
            if argv.contains("-p") || argv.contains("--pid") { return [] }
            guard let i = a.skipOptions(valueShorts: "", longs: Long.taskset, from: 1) else { return [] }
            return a.rest(from: i + 1)  // skip MASK / LIST
        case "chrt":
            if argv.contains("-p") || argv.contains("--pid") { return [] }
            guard
                let i = a.skipOptions(valueShorts: "TPD", longs: Long.chrt, from: 1)
            else { return [] }
            return a.rest(from: i + 1)  // skip PRIORITY
        case "cpulimit":
            guard let i = a.skipOptions(valueShorts: "lpe", longs: Long.cpulimit, from: 1) else {
                return []
            }
            return a.rest(from: i)
        case "strace", "ltrace":
            if argv.contains("-p") { return [] }
            guard
                let i = a.skipOptions(valueShorts: "abeEIoOpPsSuUXn", longs: Long.strace, from: 1)
            else { return [] }
            return a.rest(from: i)
        default:
            return []
        }
    }

    // MARK: - Individual wrappers

    /// A shell's payload: its `-c` text (the first operand after its options), else what it reads on standard
    /// input (`-s`, or no operand; a first operand without `-c` or `-s` is a script file, whose commands are
    /// judged at their own execs). Options are read as that shell reads them (`OptionSyntax`): they end at the
    /// first operand (`bash SCRIPT -c X` runs SCRIPT with `-c X` as its arguments), at `--` or `-`; `+c` is
    /// `-c` too; `-o NAME`/`+o NAME` take a value.
    private static func shell(_ kind: String, _ a: inout Args, stdin: Stdin) -> [Payload] {
        let p = ParsedArgs(argv: a.argv, syntax: OptionSyntax.lookup(kind), unknown: a.unknown)
        let i = p.optionsEnd
        let hasC = p.hasShort(0x63)
        if i < a.argv.count && a.isUnknown(i) { return hasC ? [.unknown(a.argv[i])] : [] }
        if hasC { return i < a.argv.count ? a.scriptWord(i) : [] }
        if i < a.argv.count && !p.hasShort(0x73) { return [] }
        if stdin.unknown { return [.unknown(stdin.text ?? "")] }
        if let text = stdin.text { return [.script(text, user: nil)] }
        return []
    }

    /// The index in argv of the `-c` text of the shell `kind`, or nil when it runs none.
    static func shellCommandIndex(_ kind: String, argv: [String]) -> Int? {
        let p = ParsedArgs(argv: argv, syntax: OptionSyntax.lookup(kind), unknown: [])
        return p.hasShort(0x63) && p.optionsEnd < argv.count ? p.optionsEnd : nil
    }

    private static func env(_ a: inout Args) -> [Payload] {
        let argv = a.argv
        var i = 1
        var chdir: String?
        var split: [String] = []
        while i < argv.count {
            let w = argv[i]
            if a.isUnknown(i) { return [.unknown(w)] }
            if w == "--" {
                i += 1
                break
            }
            if w == "-" {
                i += 1
                continue
            }
            if w.hasPrefix("--") {
                let o = a.long(i, Long.env)
                if o.name == "chdir", let v = o.value { chdir = v }
                if o.name == "split-string", let v = o.value { split = v.split(separator: " ").map(String.init) }
                i += o.words
                if !split.isEmpty { break }
                continue
            }
            if w.hasPrefix("-") && w.count > 1 {
                let o = a.short(i, values: ByteMask("uCSP"))  // -u NAME -C DIR -S STRING -P PATH
                if o.letter == 0x43 { chdir = o.value ?? "" }
                if o.letter == 0x53 { split = (o.value ?? "").split(separator: " ").map(String.init) }
                i += o.words
                if !split.isEmpty { break }
                continue
            }
            if w.contains("=") {
                i += 1
                continue
            }
            break
        }
        if !split.isEmpty {
            var inner = split
            inner.append(contentsOf: argv[min(i, argv.count)...])
            return [.exec(Payload.Exec(argv: inner, chdir: chdir))]
        }
        guard i < argv.count else { return [] }
        return a.rest(from: i, chdir: chdir)
    }

    private static func xargs(_ a: inout Args) -> [Payload] {
        let argv = a.argv
        var i = 1
        var replace: String?
        let valueShorts = ByteMask("aEdILnPs")
        while i < argv.count {
            let w = argv[i]
            if w == "--" {
                i += 1
                break
            }
            guard w.hasPrefix("-"), w.count > 1 else { break }
            if w.hasPrefix("--") {
                let o = a.long(i, Long.xargs)
                if o.name == "replace" { replace = o.value ?? "{}" }
                i += o.words
                continue
            }
            // -i[R] -e[EOF] -l[N] take only an attached value; -I R (and the others) the next word too.
            let o = a.short(i, values: valueShorts, attachedOnly: ByteMask("iel"))
            if o.letter == 0x69 || o.letter == 0x49 { replace = o.value ?? "{}" }
            i += o.words
        }
        var inner = i < argv.count ? Array(argv[i...]) : ["echo"]
        var unknown = a.unknown.filter { $0 >= i }.map { $0 - i }
        if let replace {
            for (k, w) in inner.enumerated() where w.contains(replace) && !unknown.contains(k) { unknown.append(k) }
            if inner.isEmpty { inner = ["echo"] }
            return [.exec(Payload.Exec(argv: inner, unknown: unknown.sorted()))]
        }
        // The words xargs appends from stdin are unknown here; the real exec of the payload is checked with them.
        return [.exec(Payload.Exec(argv: inner, unknown: unknown))]
    }

    private static func sudo(_ a: inout Args) -> [Payload] {
        let argv = a.argv
        var i = 1
        var user = "root"
        var chdir: String?
        var shellMode = false
        let valueShorts = ByteMask("ugCDhprtTUR")
        while i < argv.count {
            let w = argv[i]
            if w == "--" {
                i += 1
                break
            }
            guard w.hasPrefix("-"), w.count > 1 else { break }
            if w.hasPrefix("--") {
                let o = a.long(i, Long.sudo)
                switch o.name {
                case "user": user = o.value ?? ""
                case "chdir": chdir = o.value ?? ""
                case "shell", "login": shellMode = true
                case "edit", "list", "validate", "version", "help", "remove-timestamp": return []
                default: break
                }
                i += o.words
                continue
            }
            let o = a.short(i, values: valueShorts)
            if o.flags.intersects(ByteMask("elvVK")) { return [] }  // runs no command
            if o.flags.contains(0x73) || o.flags.contains(0x69) { shellMode = true }  // -s -i
            if o.letter == 0x75 { user = o.value ?? "" }
            if o.letter == 0x44 { chdir = o.value ?? "" }
            i += o.words
        }
        // VAR=value assignments may precede the command.
        while i < argv.count, let eq = argv[i].firstIndex(of: "="),
            argv[i][..<eq].allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber })
        {
            i += 1
        }
        guard i < argv.count else { return [] }
        if shellMode { return a.joinedScript(from: i).withUser(user) }
        return a.rest(from: i, chdir: chdir, user: user)
    }

    private static func flock(_ a: inout Args) -> [Payload] {
        let argv = a.argv
        var i = 1
        var sawFile = false
        while i < argv.count {
            let w = argv[i]
            // After the lock file only `-c` / `--command` as written (flock compares them exactly).
            if w == "-c" || w == "--command" {
                return i + 1 < argv.count ? a.scriptWord(i + 1) : []
            }
            if w.hasPrefix("--command=") { return a.scriptText(String(w.dropFirst(10)), index: i) }
            if w.hasPrefix("--") && w.count > 2 && !sawFile {
                i += a.long(i, Long.flock).words
                continue
            }
            if w.hasPrefix("-") && w.count > 1 && !sawFile {
                if w == "-w" || w == "-E" { i += 1 }
                i += 1
                continue
            }
            if !sawFile {
                sawFile = true
                i += 1
                continue
            }
            return a.rest(from: i)
        }
        return []
    }

    /// `git -c alias.NAME=VALUE NAME ARGS` runs the git command VALUE stands for (`!TEXT`: shell text git runs
    /// with sh), so that is the payload, judged before git starts. (git 2.39 then re-executes itself with the
    /// expansion, which is judged again at that exec; a git that dispatches in process would not.) Alias names
    /// are case-insensitive and a later `-c` wins, as in git. Aliases from config files are not in argv.
    private static func gitAlias(_ a: inout Args) -> [Payload] {
        let argv = a.argv
        var aliases: [(name: String, value: String, index: Int)] = []
        var i = 1
        // git's own options before the subcommand; those that take the next word as their value.
        while i < argv.count {
            let w = argv[i]
            if w == "-c" || w == "-C" || w == "--git-dir" || w == "--work-tree" || w == "--namespace"
                || w == "--attr-source" || w == "--config-env"
            {
                if w == "-c", i + 1 < argv.count, !a.isUnknown(i + 1) {
                    let kv = argv[i + 1]
                    if kv.utf8.count > 6, kv.prefix(6).lowercased() == "alias.", let eq = kv.firstIndex(of: "=") {
                        let name = kv[kv.index(kv.startIndex, offsetBy: 6)..<eq].lowercased()
                        aliases.append((name, String(kv[kv.index(after: eq)...]), i + 1))
                    }
                }
                i += 2
                continue
            }
            guard w.hasPrefix("-") else { break }
            i += 1
        }
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

    private static func find(_ a: inout Args) -> [Payload] {
        let argv = a.argv
        var i = 1
        var starts: [String] = []
        while i < argv.count, !argv[i].hasPrefix("-"), argv[i] != "(", argv[i] != "!" {
            if !a.isUnknown(i) { starts.append(argv[i]) }
            i += 1
        }
        if starts.isEmpty { starts = ["."] }
        var out: [Payload] = []
        while i < argv.count {
            let w = argv[i]
            i += 1
            guard w == "-exec" || w == "-execdir" || w == "-ok" || w == "-okdir" else { continue }
            var inner: [String] = []
            var unknown: [Int] = []
            while i < argv.count, argv[i] != ";", argv[i] != "+" || inner.last != "{}" {
                if a.isUnknown(i) { unknown.append(inner.count) }
                inner.append(argv[i])
                i += 1
            }
            i += 1
            guard !inner.isEmpty else { continue }
            // `{}` stands for each file found: at least the start points themselves.
            for s in starts {
                let replaced = inner.map { $0.replacingAll("{}", with: s) }
                out.append(.exec(Payload.Exec(argv: replaced, unknown: unknown)))
            }
        }
        return out
    }
}

extension Array where Element == Payload {
    fileprivate func withUser(_ user: String) -> [Payload] {
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

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        let t = Array(target.utf8)
        let b = Array(self.utf8)
        guard !t.isEmpty, b.count >= t.count else { return self }
        var out: [UInt8] = []
        var i = 0
        var changed = false
        while i < b.count {
            if i + t.count <= b.count && b[i] == t[0] && Array(b[i..<(i + t.count)]) == t {
                out.append(contentsOf: replacement.utf8)
                i += t.count
                changed = true
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : self
    }
}
