// The wrappers' long option tables and the option readers they share: getopt_long(3) long options, short
// bundles, and argv with its words unknown statically.

/// The long options of each wrapper, as its `--help` lists them on Debian 12 (coreutils 9.1, util-linux 2.38,
/// findutils 4.9, sudo 1.9, GNU time 1.9; strace's only as far as the options that take a separate value).
enum Long {
    static let nohup = LongOptions("help version")
    static let timeout = LongOptions("signal= kill-after= foreground preserve-status verbose help version")
    static let ionice = LongOptions("class= classdata= pid= pgid= uid= ignore help version")
    static let stdbuf = LongOptions("input= output= error= help version")
    static let setsid = LongOptions("ctty fork wait help version")
    static let time = LongOptions("format= output= append verbose quiet portability help version")
    static let chroot = LongOptions("userspec= groups= skip-chdir help version")
    static let unshare = LongOptions(
        "mount? uts? ipc? net? pid? user? cgroup? time? fork map-user= map-group= map-root-user map-current-user "
            + "map-auto map-users= map-groups= kill-child? mount-proc? propagation= setgroups= keep-caps root= wd= "
            + "setuid= setgid= monotonic= boottime= help version")
    static let nsenter = LongOptions(
        "all target= mount? uts? ipc? net? pid? cgroup? user? time? setuid= setgid= preserve-credentials root? wd? "
            + "wdns= no-fork follow-context help version")
    static let taskset = LongOptions("all-tasks pid cpu-list help version")
    static let chrt = LongOptions(
        "batch deadline fifo idle other rr reset-on-fork sched-runtime= sched-period= sched-deadline= all-tasks max "
            + "pid verbose help version")
    static let cpulimit = LongOptions("limit= pid= exe= path= cpu= lazy include-children verbose help")
    static let strace = LongOptions(
        "output= signal= trace= trace-path absolute-timestamps abbrev attach columns const-print-style daemonize "
            + "debug decode-fds decode-pids detach-on env failed-only fault follow-forks inject instruction-pointer "
            + "interruptible kvm no-abbrev output-append-mode output-separately quiet raw read relative-timestamps "
            + "seccomp-bpf stack-traces status string-limit strings-in-hex successful-only summary summary-columns "
            + "summary-only summary-sort-by summary-syscall-overhead summary-wall-clock syscall-number syscall-times "
            + "tips user verbose write help version")
    static let xargs = LongOptions(
        "arg-file= delimiter= max-args= max-procs= max-chars= process-slot-var= max-lines? eof? replace? null "
            + "no-run-if-empty interactive verbose exit open-tty show-limits help version")
    static let sudo = LongOptions(
        "user= group= close-from= chdir= host= prompt= role= type= command-timeout= other-user= chroot= askpass "
            + "background bell edit list login non-interactive preserve-env? preserve-groups remove-timestamp "
            + "reset-timestamp set-home shell stdin validate help version")
    static let env = LongOptions(
        "unset= chdir= split-string= ignore-environment null block-signal? default-signal? ignore-signal? "
            + "list-signal-handling debug help version")
    static let nice = LongOptions("adjustment= help version")
    static let flock = LongOptions(
        "timeout= wait= conflict-exit-code= shared exclusive unlock nonblock close no-fork verbose help version")
    static let watch = LongOptions(
        "interval= equexit= differences? beep color errexit chgexit precise no-title no-wrap exec help version")
    static let script = LongOptions(
        "command= log-in= log-out= log-io= log-timing= logging-format= echo= output-limit= timing? append return "
            + "flush force quiet help version")
    static let su = LongOptions(
        "command= session-command= shell= group= supp-group= whitelist-environment= preserve-environment login fast "
            + "pty help version")
    static let runuser = LongOptions(
        "user= command= session-command= shell= group= supp-group= whitelist-environment= preserve-environment "
            + "login fast pty help version")
}

/// A program's long options as getopt_long(3) reads them: `--name=value`, `--name value` for an option that
/// requires a value, and any unambiguous prefix of a name (`timeout --sig KILL` is `--signal KILL`; an exact name
/// wins over the longer names it begins). Every wrapper's table lists all of its long options, so that a prefix
/// is judged against the same names the program itself knows.
struct LongOptions: Sendable {
    enum Arg: Sendable { case none, required, optional }

    private let names: [String]
    private let args: [Arg]

    /// `spec`: space-separated names, `name=` for a required value, `name?` for an optional (attached) one.
    init(_ spec: String) {
        var names: [String] = []
        var args: [Arg] = []
        for word in spec.split(separator: " ") {
            if word.hasSuffix("=") {
                names.append(String(word.dropLast()))
                args.append(.required)
            } else if word.hasSuffix("?") {
                names.append(String(word.dropLast()))
                args.append(.optional)
            } else {
                names.append(String(word))
                args.append(.none)
            }
        }
        self.names = names
        self.args = args
    }

    static let none = LongOptions("")

    /// The option `name` (without `--`) stands for: itself, else the one option it is a prefix of. Nil when it
    /// is unknown or ambiguous, and the program then stops with an error.
    func resolve(_ name: Substring) -> (name: String, arg: Arg)? {
        if let k = names.firstIndex(where: { $0 == name }) { return (names[k], args[k]) }
        var found: Int?
        for k in names.indices where names[k].hasPrefix(name) {
            if found != nil { return nil }
            found = k
        }
        return found.map { (names[$0], args[$0]) }
    }
}

/// One long option at `argv[i]` (which starts with `--`), read as the program reads it.
struct LongOption {
    /// The full name the word stands for, or nil when the program does not know it (or it is ambiguous).
    var name: String?
    /// Its value: after `=`, or the next word for an option that requires one.
    var value: String?
    /// How many words it takes (1, or 2 when the value is the next word).
    var words: Int
}

/// One short option bundle as `Args.short` reads it.
struct ShortOption {
    /// Flag letters before the first letter that takes a value.
    var flags: ByteMask
    /// The letter that takes a value, if any.
    var letter: UInt8?
    var value: String?
    /// Whether the value is the rest of the bundle (else the next word, or none).
    var attached: Bool
    /// How many words the bundle takes.
    var words: Int
}

/// A set of ASCII bytes as a bitmap (no hashing, no allocation); a byte of 0x80 and above is never in it.
struct ByteMask {
    var lo: UInt64 = 0
    var hi: UInt64 = 0

    @inline(__always) init(_ s: String) {
        for c in s.utf8 { insert(c) }
    }

    @inline(__always) mutating func insert(_ c: UInt8) {
        if c < 64 { lo |= 1 << UInt64(c) } else if c < 128 { hi |= 1 << UInt64(c - 64) }
    }

    @inline(__always) func intersects(_ other: ByteMask) -> Bool { lo & other.lo != 0 || hi & other.hi != 0 }

    @inline(__always) func contains(_ c: UInt8) -> Bool {
        if c < 64 { return lo & (1 << UInt64(c)) != 0 }
        if c < 128 { return hi & (1 << UInt64(c - 64)) != 0 }
        return false
    }
}

/// argv with its unknown-word indices, and helpers shared by the wrappers.
struct Args {
    let argv: [String]
    let unknown: [Int]

    func isUnknown(_ i: Int) -> Bool { !unknown.isEmpty && unknown.contains(i) }

    /// The long option at `i` (`argv[i]` starts with `--`) against `options`.
    func long(_ i: Int, _ options: LongOptions) -> LongOption {
        let body = argv[i].dropFirst(2)
        let eq = body.firstIndex(of: "=")
        let attached = eq.map { String(body[body.index(after: $0)...]) }
        guard let (name, arg) = options.resolve(eq.map { body[..<$0] } ?? body) else {
            return LongOption(name: nil, value: attached, words: 1)
        }
        if attached == nil && arg == .required {
            return LongOption(name: name, value: i + 1 < argv.count ? argv[i + 1] : nil, words: 2)
        }
        return LongOption(name: name, value: attached, words: 1)
    }

    /// Skips options starting at `from`; returns the index of the first non-option word (nil if none).
    func skipOptions(valueShorts: String, longs: LongOptions, from: Int) -> Int? {
        let shorts = ByteMask(valueShorts)
        var i = from
        while i < argv.count {
            let w = argv[i]
            if w == "--" { return i + 1 < argv.count ? i + 1 : nil }
            guard w.hasPrefix("-"), w.utf8.count > 1 else { return i }
            if w.hasPrefix("--") {
                i += long(i, longs).words
                continue
            }
            i += short(i, values: shorts).words
        }
        return nil
    }

    func optionValue(short: String, before end: Int) -> String? {
        var i = 1
        while i < min(end, argv.count) {
            if argv[i] == "-" + short, i + 1 < argv.count { return argv[i + 1] }
            i += 1
        }
        return nil
    }

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

    /// The short option bundle at `i` (`-xyz`): its flag letters up to the first that takes a value, and that
    /// letter's value: the rest of the bundle, else (unless it takes only an attached one) the next word.
    func short(_ i: Int, values: ByteMask, attachedOnly: ByteMask = ByteMask("")) -> ShortOption {
        let body = Array(argv[i].utf8.dropFirst())
        var flags = ByteMask("")
        for (k, c) in body.enumerated() {
            guard values.contains(c) || attachedOnly.contains(c) else {
                flags.insert(c)
                continue
            }
            if k + 1 < body.count {
                let rest = String(decoding: body[(k + 1)...], as: UTF8.self)
                return ShortOption(flags: flags, letter: c, value: rest, attached: true, words: 1)
            }
            if attachedOnly.contains(c) {
                return ShortOption(flags: flags, letter: c, value: nil, attached: false, words: 1)
            }
            return ShortOption(
                flags: flags, letter: c, value: i + 1 < argv.count ? argv[i + 1] : nil, attached: false, words: 2)
        }
        return ShortOption(flags: flags, letter: nil, value: nil, attached: false, words: 1)
    }

    /// The script of a `-c` short option: its attached text, or the next word.
    func script(_ o: ShortOption, at i: Int) -> [Payload] {
        if o.attached, let text = o.value { return scriptText(text, index: i) }
        return i + 1 < argv.count ? scriptWord(i + 1) : []
    }

    /// The script of a `--command` long option: its attached text, or the next word.
    func command(_ o: LongOption, at i: Int) -> [Payload] {
        if o.words == 2 { return i + 1 < argv.count ? scriptWord(i + 1) : [] }
        return o.value.map { scriptText($0, index: i) } ?? []
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
