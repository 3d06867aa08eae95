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
    }
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
        "taskset", "strace", "ltrace", "builtin", "chrt", "cpulimit", "nsenter",
    ])

    /// The payloads of a command whose program is known by `names` (basenames), or [] when it wraps nothing.
    static func unwrap(names: [String], argv: [String], unknown: [Int], argv0Name: String?) -> [Payload] {
        guard argv.count >= 1 else { return [] }
        var kind: String?
        for n in names where Wrappers.names.contains(n) {
            kind = n
            break
        }
        guard let kind else { return [] }
        var a = Args(argv: argv, unknown: unknown)
        if shells.contains(kind) { return shell(&a) }
        switch kind {
        case "busybox":
            // Busybox picks its applet by argv[0]: run as /bin/busybox with argv[0] "rm", it is rm. (Run through
            // a link named rm, the name already says so.)
            if let argv0Name, argv0Name != "busybox", !argv0Name.isEmpty, !names.contains(argv0Name) {
                var inner = argv
                inner[0] = argv0Name
                return a.applet(inner)
            }
            if argv.count > 1 && (argv[1] == "--install" || argv[1] == "--list" || argv[1] == "--help") { return [] }
            return a.rest(from: 1)
        case "eval":
            return a.joinedScript(from: 1)
        case "builtin":
            return a.rest(from: 1)
        case "env": return env(&a)
        case "nohup": return a.skipOptions(valueShorts: "", valueLongs: [], from: 1).map { a.rest(from: $0) } ?? []
        case "timeout":
            guard let i = a.skipOptions(valueShorts: "sk", valueLongs: ["signal", "kill-after"], from: 1) else {
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
                if w == "-n" || w == "--adjustment" {
                    i += 2
                } else if w.hasPrefix("-n") || w.hasPrefix("--adjustment=") || (w.hasPrefix("-") && w.count > 1) {
                    i += 1
                } else {
                    break
                }
            }
            return a.rest(from: i)
        case "ionice":
            if argv.contains("-p") || argv.contains("-P") || argv.contains("-u") { return [] }
            guard let i = a.skipOptions(valueShorts: "cn", valueLongs: ["class", "classdata"], from: 1) else {
                return []
            }
            return a.rest(from: i)
        case "stdbuf":
            guard let i = a.skipOptions(valueShorts: "ioe", valueLongs: ["input", "output", "error"], from: 1) else {
                return []
            }
            return a.rest(from: i)
        case "setsid":
            guard let i = a.skipOptions(valueShorts: "", valueLongs: [], from: 1) else { return [] }
            return a.rest(from: i)
        case "time":
            guard let i = a.skipOptions(valueShorts: "fo", valueLongs: ["format", "output"], from: 1) else { return [] }
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
            guard let i = a.skipOptions(valueShorts: "a", valueLongs: [], from: 1) else { return [] }
            return a.rest(from: i)
        case "xargs": return xargs(&a)
        case "sudo": return sudo(&a)
        case "doas":
            if argv.contains("-C") { return [] }
            guard let i = a.skipOptions(valueShorts: "uC", valueLongs: [], from: 1) else { return [] }
            let user = a.optionValue(short: "u", before: i) ?? "root"
            if argv[1..<i].contains("-s") && i >= argv.count { return [] }
            return a.rest(from: i, user: user)
        case "flock": return flock(&a)
        case "chroot":
            guard let i = a.skipOptions(valueShorts: "", valueLongs: ["userspec", "groups"], from: 1) else { return [] }
            return a.rest(from: i + 1)  // skip NEWROOT
        case "unshare", "nsenter":
            // Options that take a separate value: unshare -R -w -S -G; nsenter -t -S -G (its -r/-w only attached).
            guard
                let i = a.skipOptions(
                    valueShorts: kind == "unshare" ? "RwSG" : "tSG",
                    valueLongs: [
                        "root", "wd", "setuid", "setgid", "propagation", "setgroups", "target", "map-user",
                        "map-group", "map-users", "map-groups",
                    ],
                    from: 1)
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
                if w == "-x" || w == "--exec" { execMode = true }
                if w.hasPrefix("--") {
                    if ["--interval", "--chgexit"].contains(w) { i += 1 }
                } else {
                    let body = Array(w.utf8.dropFirst())
                    if body.contains(0x78) { execMode = true }
                    if let k = body.firstIndex(of: 0x6E), k == body.count - 1 { i += 1 }
                }
                i += 1
            }
            if execMode { return a.rest(from: i) }
            return a.joinedScript(from: i)
        case "script":
            var i = 1
            while i < argv.count {
                let w = argv[i]
                if w == "-c" || w == "--command" {
                    return i + 1 < argv.count ? a.scriptWord(i + 1) : []
                }
                if w.hasPrefix("--command=") { return a.scriptText(String(w.dropFirst(10)), index: i) }
                if w.hasPrefix("-") && !w.hasPrefix("--"), let c = w.firstIndex(of: "c") {
                    // A bundle such as -qc CMD, or -cCMD with the command attached.
                    let rest = w[w.index(after: c)...]
                    if rest.isEmpty { return i + 1 < argv.count ? a.scriptWord(i + 1) : [] }
                    return a.scriptText(String(rest), index: i)
                }
                if [
                    "-E", "-I", "-O", "-B", "-T", "-m", "-o", "--echo", "--log-in", "--log-out", "--log-io",
                    "--log-timing", "--logging-format", "--output-limit",
                ].contains(w) {
                    i += 1
                }
                i += 1
            }
            return []
        case "su", "runuser":
            var user = "root"
            var i = 1
            var script: [Payload] = []
            while i < argv.count {
                let w = argv[i]
                if w == "-c" || w == "--command" || w == "--session-command" {
                    if i + 1 < argv.count { script = a.scriptWord(i + 1) }
                    i += 2
                    continue
                }
                if w.hasPrefix("--command=") {
                    script = a.scriptText(String(w.dropFirst(10)), index: i)
                } else if ["-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment"]
                    .contains(w)
                {
                    i += 1
                } else if !w.hasPrefix("-") {
                    user = w
                }
                i += 1
            }
            return script.withUser(user)
        case "find": return find(&a)
        case "taskset":
            if argv.contains("-p") || argv.contains("--pid") { return [] }
            guard let i = a.skipOptions(valueShorts: "", valueLongs: [], from: 1) else { return [] }
            return a.rest(from: i + 1)  // skip MASK / LIST
        case "chrt":
            if argv.contains("-p") || argv.contains("--pid") { return [] }
            guard
                let i = a.skipOptions(
                    valueShorts: "T", valueLongs: ["sched-runtime", "sched-period", "sched-deadline"], from: 1)
            else { return [] }
            return a.rest(from: i + 1)  // skip PRIORITY
        case "cpulimit":
            guard let i = a.skipOptions(valueShorts: "lpe", valueLongs: ["limit", "pid", "exe"], from: 1) else {
                return []
            }
            return a.rest(from: i)
        case "strace", "ltrace":
            if argv.contains("-p") { return [] }
            guard
                let i = a.skipOptions(
                    valueShorts: "abeEIoOpPsSuUXn", valueLongs: ["output", "signal", "trace"], from: 1)
            else { return [] }
            return a.rest(from: i)
        default:
            return []
        }
    }

    // MARK: - Individual wrappers

    private static func shell(_ a: inout Args) -> [Payload] {
        var hasC = false
        var i = 1
        let argv = a.argv
        while i < argv.count {
            let w = argv[i]
            if a.isUnknown(i) { return hasC ? [.unknown(w)] : [] }
            if w == "--" || w == "-" {
                i += 1
                break
            }
            guard let f = w.utf8.first, f == 0x2D || f == 0x2B, w.utf8.count > 1 else { break }
            if w.hasPrefix("--") {
                if w == "--rcfile" || w == "--init-file" { i += 1 }
                i += 1
                continue
            }
            let body = w.utf8.dropFirst()
            if f == 0x2D && body.contains(0x63) { hasC = true }
            if body.contains(0x6F) || body.contains(0x4F) { i += 1 }
            i += 1
        }
        guard hasC, i < argv.count else { return [] }
        return a.scriptWord(i)
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
                if w.hasPrefix("--chdir=") {
                    chdir = String(w.dropFirst(8))
                } else if w.hasPrefix("--split-string=") {
                    split = String(w.dropFirst(15)).split(separator: " ").map(String.init)
                } else if w == "--chdir" || w == "--unset" || w == "--split-string" {
                    if i + 1 < argv.count {
                        if w == "--chdir" { chdir = argv[i + 1] }
                        if w == "--split-string" { split = argv[i + 1].split(separator: " ").map(String.init) }
                    }
                    i += 1
                }
                i += 1
                if !split.isEmpty { break }
                continue
            }
            if w.hasPrefix("-") && w.count > 1 {
                let body = Array(w.utf8.dropFirst())
                var k = 0
                var consumedNext = false
                while k < body.count {
                    let c = body[k]
                    if c == 0x75 || c == 0x43 || c == 0x53 || c == 0x50 {  // u C S P take a value
                        let attached = k + 1 < body.count ? String(decoding: body[(k + 1)...], as: UTF8.self) : nil
                        let value = attached ?? (i + 1 < argv.count ? argv[i + 1] : "")
                        if attached == nil { consumedNext = true }
                        if c == 0x43 { chdir = value }
                        if c == 0x53 { split = value.split(separator: " ").map(String.init) }
                        break
                    }
                    k += 1
                }
                i += consumedNext ? 2 : 1
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
                if w.hasPrefix("--replace") {
                    replace = w.contains("=") ? String(w.split(separator: "=", maxSplits: 1)[1]) : "{}"
                }
                if !w.contains("="),
                    [
                        "--arg-file", "--delimiter", "--max-lines", "--max-args", "--max-procs", "--max-chars",
                        "--process-slot-var",
                    ].contains(w)
                {
                    i += 1
                }
                i += 1
                continue
            }
            let body = Array(w.utf8.dropFirst())
            var k = 0
            var skipNext = false
            while k < body.count {
                let c = body[k]
                if c == 0x69 {  // -i[R]
                    replace = k + 1 < body.count ? String(decoding: body[(k + 1)...], as: UTF8.self) : "{}"
                    break
                }
                if c == 0x65 || c == 0x6C { break }  // -e[EOF] -l[N]
                if valueShorts.contains(c) {
                    if c == 0x49 {
                        replace =
                            k + 1 < body.count
                            ? String(decoding: body[(k + 1)...], as: UTF8.self)
                            : (i + 1 < argv.count ? argv[i + 1] : "{}")
                    }
                    if k + 1 == body.count { skipNext = true }
                    break
                }
                k += 1
            }
            i += skipNext ? 2 : 1
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
                let name = w.split(separator: "=", maxSplits: 1)[0]
                let value: String? = w.contains("=") ? String(w.split(separator: "=", maxSplits: 1)[1]) : nil
                switch name {
                case "--user", "--group", "--close-from", "--chdir", "--host", "--prompt", "--role", "--type",
                    "--command-timeout", "--other-user", "--chroot":
                    let v = value ?? (i + 1 < argv.count ? argv[i + 1] : "")
                    if name == "--user" { user = v }
                    if name == "--chdir" { chdir = v }
                    if value == nil { i += 1 }
                case "--shell", "--login": shellMode = true
                case "--edit", "--list", "--validate", "--version", "--help", "--remove-timestamp": return []
                default: break
                }
                i += 1
                continue
            }
            let body = Array(w.utf8.dropFirst())
            var k = 0
            var skipNext = false
            while k < body.count {
                let c = body[k]
                if c == 0x73 || c == 0x69 { shellMode = true }
                if c == 0x65 || c == 0x6C || c == 0x76 || c == 0x56 || c == 0x4B { return [] }  // e l v V K
                if valueShorts.contains(c) {
                    let attached = k + 1 < body.count ? String(decoding: body[(k + 1)...], as: UTF8.self) : nil
                    let v = attached ?? (i + 1 < argv.count ? argv[i + 1] : "")
                    if c == 0x75 { user = v }
                    if c == 0x44 { chdir = v }
                    if attached == nil { skipNext = true }
                    break
                }
                k += 1
            }
            i += skipNext ? 2 : 1
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
            if w == "-c" || w == "--command" {
                return i + 1 < argv.count ? a.scriptWord(i + 1) : []
            }
            if w.hasPrefix("--command=") { return a.scriptText(String(w.dropFirst(10)), index: i) }
            if w.hasPrefix("-") && w.count > 1 && !sawFile {
                if ["-w", "--wait", "--timeout", "-E", "--conflict-exit-code"].contains(w) { i += 1 }
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

/// argv with its unknown-word indices, and helpers shared by the wrappers.
/// A set of ASCII bytes as a bitmap (no hashing, no allocation); a byte of 0x80 and above is never in it.
private struct ByteMask {
    var lo: UInt64 = 0
    var hi: UInt64 = 0

    @inline(__always) init(_ s: String) {
        for c in s.utf8 where c < 128 {
            if c < 64 { lo |= 1 << UInt64(c) } else { hi |= 1 << UInt64(c - 64) }
        }
    }

    @inline(__always) func contains(_ c: UInt8) -> Bool {
        if c < 64 { return lo & (1 << UInt64(c)) != 0 }
        if c < 128 { return hi & (1 << UInt64(c - 64)) != 0 }
        return false
    }
}

private struct Args {
    let argv: [String]
    let unknown: [Int]

    func isUnknown(_ i: Int) -> Bool { !unknown.isEmpty && unknown.contains(i) }

    /// Skips options starting at `from`; returns the index of the first non-option word (nil if none).
    func skipOptions(valueShorts: String, valueLongs: [String], from: Int) -> Int? {
        let shorts = ByteMask(valueShorts)
        var i = from
        while i < argv.count {
            let w = argv[i]
            if w == "--" { return i + 1 < argv.count ? i + 1 : nil }
            guard w.hasPrefix("-"), w.utf8.count > 1 else { return i }
            if w.hasPrefix("--") {
                if !w.contains("="), valueLongs.contains(String(w.dropFirst(2))) { i += 1 }
                i += 1
                continue
            }
            let body = Array(w.utf8.dropFirst())
            var skipNext = false
            for (k, c) in body.enumerated() where shorts.contains(c) {
                if k == body.count - 1 { skipNext = true }
                break
            }
            i += skipNext ? 2 : 1
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

    func scriptText(_ text: String, index: Int) -> [Payload] {
        if isUnknown(index) { return [.unknown(text)] }
        return [.script(text, user: nil)]
    }

    func joinedScript(from i: Int) -> [Payload] {
        guard i < argv.count else { return [] }
        for k in i..<argv.count where isUnknown(k) { return [.unknown(argv[i...].joined(separator: " "))] }
        return [.script(argv[i...].joined(separator: " "), user: nil)]
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
