/// What the flag parser needs to know about one command's options.
struct OptionSyntax: Sendable {
    /// Short options that take a value (`-n 5`, `-n5`): the rest of the bundle or the next word is the value.
    var shortWithValue = Glob.ByteSet()
    /// Short options whose value may only be attached (`sed -i.bak`): the rest of the bundle is the value.
    var shortOptionalValue = Glob.ByteSet()
    /// Long options that take the next word as their value when written without `=`.
    var longWithValue: Set<String> = []
    /// Options are single-dash words (`find -delete`, `-exec`): each is one long flag, never a bundle.
    var singleDashLong = false
    /// Only the words before the first option-like word are operands (`find DIR... EXPR`).
    var leadingOperandsOnly = false
    /// Options end at the first operand (shells, program runners, POSIX getopt): every later word belongs to what
    /// runs (`bash SCRIPT -c X` hands `-c X` to SCRIPT; `ld.so /bin/rm -rf V` hands `-rf V` to rm).
    var optionsFirst = false
    /// `+x` and `+o NAME` are options too (shells; `sh +c TEXT` runs TEXT as `sh -c TEXT` does).
    var plusOptions = false
    /// A short option's value is the next word and its bundle goes on (`bash -oe pipefail` is `-o pipefail -e`),
    /// as bash, dash and busybox sh read them; otherwise (getopt) the rest of the bundle, else the next word.
    var valuesFollowBundle = false
    /// A lone `-` ends the options as `--` does (shells).
    var dashEndsOptions = false
    /// The option (without dashes) that sets the argv[0] the program sees: ld.so `--argv0`, qemu `-0`.
    var argv0Option: String?
    /// Options that imply others (`rm --interactive=never` is `rm -f`).
    var implications: [Implication] = []

    init(
        short: String = "", optional: String = "", long: [String] = [], singleDashLong: Bool = false,
        leadingOperandsOnly: Bool = false, optionsFirst: Bool = false, argv0Option: String? = nil,
        implications: [Implication] = []
    ) {
        for c in short.utf8 { shortWithValue.insert(c) }
        for c in optional.utf8 { shortOptionalValue.insert(c) }
        longWithValue = Set(long)
        self.singleDashLong = singleDashLong
        self.leadingOperandsOnly = leadingOperandsOnly
        self.optionsFirst = optionsFirst
        self.argv0Option = argv0Option
        self.implications = implications
    }

    /// A shell's options: `-c` and `-s` anywhere in them, `+` options, `-` ends them, values in `values`.
    static func shell(values: String, long: [String] = [], followBundle: Bool) -> OptionSyntax {
        var s = OptionSyntax(short: values, long: long, optionsFirst: true)
        s.plusOptions = true
        s.valuesFollowBundle = followBundle
        s.dashEndsOptions = true
        return s
    }

    /// Whether it says nothing beyond a plain getopt reading without values.
    var isPlain: Bool {
        shortWithValue.isEmpty && longWithValue.isEmpty && !singleDashLong && shortOptionalValue.isEmpty
            && !optionsFirst && implications.isEmpty
    }

    static let plain = OptionSyntax()

    /// Per-command knowledge of options that take a value, so that `-n 5` is not read as a flag bundle plus an
    /// operand, and `-o FILE` is not taken for a path operand.
    static let table: [String: OptionSyntax] = [
        // rm --interactive=never (no, none, or a prefix) never prompts: it deletes as -f does.
        "rm": OptionSyntax(implications: [
            Implication(trigger: .long("interactive"), values: ["never", "no", "none"], implies: .named("f", "force"))
        ]),
        "git": OptionSyntax(
            short: "CcmFbBoSXe", long: ["git-dir", "work-tree", "namespace", "config-env", "message", "file", "repo"],
            implications: [
                // `-c clean.requireForce=false`: git clean deletes without -f.
                Implication(
                    trigger: .config(option: 0x63, key: "clean.requireforce"), values: ["false", "no", "off", "0", ""],
                    subcommand: "clean", implies: .named("f", "force")),
                // `-c remote.NAME.mirror=true`: git push to it behaves as --mirror (a forced push of every ref).
                Implication(
                    trigger: .config(option: 0x63, key: "remote.*.mirror"), values: ["true", "yes", "on", "1"],
                    subcommand: "push", implies: .named("mirror")),
            ]),
        "curl": OptionSyntax(
            short: "AbcCdDeEFHKmoPQrTuUwxXyYz",
            long: [
                "data", "data-binary", "data-raw", "data-urlencode", "data-ascii", "form", "form-string", "header",
                "output", "upload-file", "user", "request", "url", "cookie", "cookie-jar", "referer", "user-agent",
                "proxy", "max-time", "connect-timeout", "write-out", "config", "json", "retry", "cert", "key",
                "cacert", "output-dir", "resolve", "connect-to", "dump-header", "range", "interface",
            ],
            // --data-ascii is curl's alias of -d.
            implications: [Implication(trigger: .long("data-ascii"), implies: .named("d", "data"))]),
        "wget": OptionSyntax(
            short: "OoaPtTUeQlADRIXiBw",
            long: [
                "output-document", "output-file", "append-output", "directory-prefix", "tries", "timeout",
                "user-agent", "execute", "post-data", "post-file", "body-data", "body-file", "method", "header",
                "input-file", "base", "wait", "user", "password", "accept", "reject", "domains", "level",
            ]),
        "tar": OptionSyntax(
            short: "fCbHKNTVXgLI", long: ["file", "directory", "files-from", "exclude-from", "exclude", "transform"]),
        "xargs": OptionSyntax(
            short: "aEdILnPs", optional: "eil",
            long: ["arg-file", "delimiter", "eof", "replace", "max-lines", "max-args", "max-procs", "max-chars"]),
        "head": OptionSyntax(short: "nc", long: ["lines", "bytes"]),
        "tail": OptionSyntax(short: "ncs", long: ["lines", "bytes", "sleep-interval", "pid"]),
        "sed": OptionSyntax(short: "efl", optional: "i", long: ["expression", "file", "line-length"]),
        "grep": OptionSyntax(
            short: "efmABCdD",
            long: ["regexp", "file", "max-count", "after-context", "before-context", "context", "include", "exclude"]),
        "ssh": OptionSyntax(short: "bcDEeFIiJLlmOopQRSWw"),
        "scp": OptionSyntax(short: "cFiJloPS"),
        "rsync": OptionSyntax(
            short: "eBfT", long: ["rsh", "exclude", "include", "filter", "rsync-path", "files-from"]),
        "kill": OptionSyntax(short: "sn"),
        "pkill": OptionSyntax(short: "gGPsStUu"),
        "mkfs": OptionSyntax(short: "tLbgGIjJNmoOrTUECM", long: ["type"]),
        "cp": OptionSyntax(short: "tS", long: ["target-directory", "suffix"]),
        "mv": OptionSyntax(short: "tS", long: ["target-directory", "suffix"]),
        "ln": OptionSyntax(short: "tS", long: ["target-directory", "suffix"]),
        "install": OptionSyntax(short: "gmoStC", long: ["group", "mode", "owner", "suffix", "target-directory"]),
        "python": OptionSyntax(short: "cmWXQ"),
        "node": OptionSyntax(short: "erp", long: ["eval", "require", "print", "import", "loader"]),
        "perl": OptionSyntax(short: "eEIMm", optional: "i"),
        "ruby": OptionSyntax(short: "eIr"),
        "sudo": OptionSyntax(short: "ugCDhprtTU", long: ["user", "group", "chdir", "prompt", "role", "type", "host"]),
        "doas": OptionSyntax(short: "uC"),
        "shred": OptionSyntax(short: "ns", long: ["iterations", "size", "random-source"]),
        "truncate": OptionSyntax(short: "sr", long: ["size", "reference"]),
        "kubectl": OptionSyntax(short: "nfclos", long: ["namespace", "filename", "context", "selector", "output"]),
        "crontab": OptionSyntax(short: "u"),
        "unzip": OptionSyntax(short: "dPx"),
        "zip": OptionSyntax(short: "bnPtx"),
        "chmod": OptionSyntax(long: ["reference"]),
        "chown": OptionSyntax(long: ["reference", "from"]),
        "docker": OptionSyntax(
            short: "eHlvpuwcmt",
            long: ["env", "volume", "publish", "user", "workdir", "name", "network", "entrypoint", "mount", "host"]),
        "find": OptionSyntax(singleDashLong: true, leadingOperandsOnly: true),
        // Shells, as each reads its options (tested against the real shells in ShellGrammarTests): bash takes
        // `-o`/`-O` values from the next words and goes on with the bundle; zsh takes the rest of the bundle
        // (`-oerrexit`), else the next word, and `--emulate NAME`.
        "bash": .shell(values: "oO", long: ["rcfile", "init-file"], followBundle: true),
        "rbash": .shell(values: "oO", long: ["rcfile", "init-file"], followBundle: true),
        "sh": .shell(values: "o", followBundle: true),
        "dash": .shell(values: "o", followBundle: true),
        "ash": .shell(values: "o", followBundle: true),
        "posh": .shell(values: "o", followBundle: true),
        "yash": .shell(values: "o", followBundle: true),
        "ksh": .shell(values: "oT", followBundle: true),
        "mksh": .shell(values: "oT", followBundle: true),
        "lksh": .shell(values: "oT", followBundle: true),
        "zsh": .shell(values: "o", long: ["emulate"], followBundle: false),
        "npm": OptionSyntax(short: "w", long: ["workspace", "prefix", "registry"]),
        "pip": OptionSyntax(short: "rceit", long: ["requirement", "constraint", "editable", "index-url", "target"]),
        "systemctl": OptionSyntax(short: "HMtspn", long: ["host", "machine", "type", "signal", "property", "lines"]),
        "journalctl": OptionSyntax(short: "unpSUtDM", long: ["unit", "lines", "priority", "since", "until"]),
        "iptables": OptionSyntax(short: "ADIRNXPFLZjpsdoit", long: ["table", "jump", "protocol", "source"]),
        "useradd": OptionSyntax(short: "dgGsucepkKbfLRZ"),
        "usermod": OptionSyntax(short: "dgGsucepLlR"),
        "openssl": OptionSyntax(singleDashLong: true),
        "java": OptionSyntax(singleDashLong: true),
    ]

    /// The syntax for a program name; `python3.12` falls back to `python`, `mkfs.ext4` to `mkfs`.
    static func lookup(_ name: String) -> OptionSyntax {
        if let s = table[name] { return s }
        if let r = Runners.kind(of: name) { return r.syntax }
        var trimmed = Substring(name)
        if let dot = trimmed.firstIndex(of: ".") { trimmed = trimmed[..<dot] }
        while let last = trimmed.last, last.isNumber { trimmed = trimmed.dropLast() }
        if trimmed.count != name.count, let s = table[String(trimmed)] { return s }
        return .plain
    }
}

/// argv split into flags and operands.
///
/// Short flags bundle (`-rf` is `-r -f`), a short option that takes a value ends its bundle (`-n5`, `-n 5`),
/// long flags may carry `=value`, and `--` ends the flags: every later word is an operand. What differs per
/// program (values, single-dash words, options only before the first operand, `+` options, options that imply
/// others) comes from its `OptionSyntax`.
struct ParsedArgs: Sendable {
    /// Short flag characters present, in order.
    var shorts: [UInt8] = []
    /// Long flag names present, without dashes and without `=value`.
    var longs: [Substring] = []
    /// The long flags written with `--` (not `find`-style single-dash words): getopt_long(3) reads any
    /// unambiguous prefix of a long option as that option, so `rm --rec --forc` is `rm --recursive --force`.
    var prefixable: [Substring] = []
    /// Indices into argv of operand words (neither flag nor option value).
    var operands: [Int] = []
    /// The index of the first word after the options (an operand, or a word unknown statically), or argv.count:
    /// with `optionsFirst`, where what runs begins.
    var optionsEnd: Int
    /// The value of the syntax's `argv0Option`, when given.
    var argv0: String?
    /// Flags implied by options (`rm --interactive=never`: `f`, `force`); `abbreviated` when the implying option
    /// was written as a prefix of its name.
    var implied: [(flags: FlagAlternatives, abbreviated: Bool)] = []

    init(argv: [String], syntax: OptionSyntax, unknown: [Int]) {
        var endOfFlags = false
        var i = 1
        var sawExpression = false
        optionsEnd = argv.count
        var pendingImplied: [(Implication, abbreviated: Bool)] = []
        let implies = !syntax.implications.isEmpty
        /// Records what an option with this value implies.
        func imply(_ name: Substring, short: Bool, value: String?) {
            for imp in syntax.implications {
                if let full = imp.holds(option: name, short: short, value: value) {
                    pendingImplied.append((imp, !full))
                }
            }
        }
        while i < argv.count {
            let w = argv[i]
            defer { i += 1 }
            if !unknown.isEmpty && unknown.contains(i) {
                if syntax.optionsFirst && !endOfFlags {
                    endOfFlags = true
                    optionsEnd = i
                }
                continue
            }
            let u = w.utf8
            let lead = u.first
            let plus = lead == 0x2B && syntax.plusOptions
            if endOfFlags || u.count < 2 || (lead != 0x2D && !plus) {
                if !endOfFlags && syntax.dashEndsOptions && w == "-" {
                    endOfFlags = true
                    optionsEnd = i + 1
                    continue
                }
                if syntax.optionsFirst && !endOfFlags {
                    endOfFlags = true
                    optionsEnd = i
                }
                if syntax.leadingOperandsOnly {
                    if sawExpression || w == "(" || w == "!" {
                        sawExpression = true
                        continue
                    }
                }
                operands.append(i)
                continue
            }
            let second = u[u.index(after: u.startIndex)]
            if second == 0x2D && !plus {
                if u.count == 2 {
                    endOfFlags = true
                    optionsEnd = i + 1
                    continue
                }
                let body = w.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    let name = body[..<eq]
                    longs.append(name)
                    if eq != body.startIndex { prefixable.append(name) }
                    if implies || syntax.argv0Option != nil {
                        let value = String(body[body.index(after: eq)...])
                        if implies { imply(name, short: false, value: value) }
                        if let o = syntax.argv0Option, name == o { argv0 = value }
                    }
                } else {
                    longs.append(body)
                    prefixable.append(body)
                    var value: String?
                    if !syntax.longWithValue.isEmpty && syntax.longWithValue.contains(String(body)) {
                        value = i + 1 < argv.count ? argv[i + 1] : nil
                        i += 1
                    }
                    if implies { imply(body, short: false, value: value) }
                    if let o = syntax.argv0Option, body == o { argv0 = value }
                }
                continue
            }
            if syntax.singleDashLong {
                sawExpression = true
                let body = w.dropFirst()
                if let eq = body.firstIndex(of: "=") {
                    longs.append(body[..<eq])
                } else {
                    longs.append(body)
                    if !syntax.longWithValue.isEmpty && syntax.longWithValue.contains(String(body)) {
                        if let o = syntax.argv0Option, body == o, i + 1 < argv.count { argv0 = argv[i + 1] }
                        i += 1
                    }
                }
                continue
            }
            var k = u.index(after: u.startIndex)
            var following = 0
            while k < u.endIndex {
                let c = u[k]
                shorts.append(c)
                let after = u.index(after: k)
                if syntax.shortWithValue.contains(c) {
                    if syntax.valuesFollowBundle {
                        // `bash -oe pipefail`: each value letter takes the next word; the bundle goes on.
                        following += 1
                        k = after
                        continue
                    }
                    if implies {
                        let value = after == u.endIndex ? (i + 1 < argv.count ? argv[i + 1] : nil) : String(w[after...])
                        imply(w[k..<after], short: true, value: value)
                    }
                    if after == u.endIndex { i += 1 }
                    break
                }
                if syntax.shortOptionalValue.contains(c) { break }
                k = after
            }
            i += following
        }
        if implies {
            let subcommand = operands.first.map { argv[$0] }
            for (imp, abbreviated) in pendingImplied where imp.subcommand == nil || imp.subcommand == subcommand {
                implied.append((imp.implies, abbreviated))
            }
        }
    }

    func hasShort(_ c: UInt8) -> Bool { shorts.contains(c) }

    /// Whether the long flag `name` is present: as written, or with `abbreviated` also as a `--` prefix of it.
    func hasLong(_ name: String, abbreviated: Bool) -> Bool {
        for l in longs where l == name { return true }
        if abbreviated {
            for l in prefixable where name.hasPrefix(l) { return true }
        }
        return false
    }
}

/// An option that implies another: `rm --interactive=never` never prompts, as `rm -f` does; `git -c
/// clean.requireForce=false clean` deletes as `git clean -f` does. Flag matching sees the implied flags too.
struct Implication: Sendable {
    enum Trigger: Sendable {
        /// A long option (`interactive`), also when abbreviated as getopt_long reads it.
        case long(String)
        /// A config assignment `KEY[=VALUE]` given to this short option (git's `-c`), its key (compared in lower
        /// case) matching `key`, where one `*` stands for any text (`remote.*.mirror`).
        case config(option: UInt8, key: String)
    }

    var trigger: Trigger
    /// The values that imply, any unambiguous prefix of one (argmatch(3) reads `--interactive=n` as `never`),
    /// compared in lower case; empty: any value. A config key given without `=VALUE` has the value "true".
    var values: [String] = []
    /// Only when the first operand is this subcommand (`git clean`, `git push`).
    var subcommand: String?
    /// The flags it implies, by every name a rule may use for them (`f` and `force`).
    var implies: FlagAlternatives

    /// Whether the option `name` (a long name, or one letter) with `value` implies: nil when not, else whether it
    /// was written in full (false: as a prefix of its name).
    func holds(option name: Substring, short: Bool, value: String?) -> Bool? {
        switch trigger {
        case .long(let long):
            guard !short, !name.isEmpty, long.hasPrefix(name) else { return nil }
            guard values.isEmpty || valueMatches(value, prefixes: true) else { return nil }
            return long.utf8.count == name.utf8.count
        case .config(let option, let key):
            guard short, name.utf8.first == option, let value else { return nil }
            let kv = value.lowercased()
            let eq = kv.firstIndex(of: "=")
            let k = eq.map { String(kv[..<$0]) } ?? kv
            guard Implication.keyMatches(k, key) else { return nil }
            guard
                values.isEmpty || valueMatches(eq.map { String(kv[kv.index(after: $0)...]) } ?? "true", prefixes: false)
            else { return nil }
            return true
        }
    }

    private func valueMatches(_ value: String?, prefixes: Bool) -> Bool {
        guard let value else { return false }
        let v = value.lowercased()
        if prefixes {
            return !v.isEmpty && values.contains { $0.hasPrefix(v) }
        }
        return values.contains(v)
    }

    static func keyMatches(_ key: String, _ pattern: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return key == pattern }
        let head = pattern[..<star], tail = pattern[pattern.index(after: star)...]
        return key.utf8.count > head.utf8.count + tail.utf8.count && key.hasPrefix(head) && key.hasSuffix(tail)
    }
}

/// One flag a rule asks for: alternatives written `r|R|recursive`.
struct FlagAlternatives: Sendable, Hashable {
    var shorts: [UInt8] = []
    var longs: [String] = []

    /// Whether one alternative is present, or implied by another option (`--interactive=never` for `f`); with
    /// `abbreviated`, a long one also when written as a prefix of its name (`--rec` for `recursive`), as the
    /// program itself reads it.
    func present(in args: ParsedArgs, abbreviated: Bool) -> Bool {
        for s in shorts where args.hasShort(s) { return true }
        for l in longs where args.hasLong(l, abbreviated: abbreviated) { return true }
        for (flags, byPrefix) in args.implied where abbreviated || !byPrefix {
            for s in flags.shorts where shorts.contains(s) { return true }
            for l in flags.longs where longs.contains(l) { return true }
        }
        return false
    }

    /// The alternatives with these names (one character: a short flag), for the program tables.
    static func named(_ names: String...) -> FlagAlternatives {
        var f = FlagAlternatives()
        for n in names {
            if n.utf8.count == 1, let c = n.utf8.first { f.shorts.append(c) } else { f.longs.append(n) }
        }
        return f
    }

    /// Parses `r|R|recursive`, `-f|--force`: one character is a short flag, more a long one; dashes say it too.
    ///
    /// - Throws: a message saying what to write instead when an alternative is empty or has spaces.
    static func parse(_ spec: String) throws(FlagSpecError) -> FlagAlternatives {
        var result = FlagAlternatives()
        for raw in spec.split(separator: "|", omittingEmptySubsequences: false) {
            let alt = raw.trimmingSpaces
            if alt.isEmpty || alt == "-" || alt == "--" {
                throw FlagSpecError(message: "empty flag alternative in '\(spec)'; write names like r|R|recursive")
            }
            if alt.contains(" ") || alt.contains("=") {
                throw FlagSpecError(
                    message:
                        "flag '\(alt)' contains a space or '='; write the bare name (force), and match values with args"
                )
            }
            if alt.hasPrefix("--") {
                result.longs.append(String(alt.dropFirst(2)))
            } else if alt.hasPrefix("-") {
                let body = alt.dropFirst()
                if body.utf8.count == 1, let c = body.utf8.first {
                    result.shorts.append(c)
                } else {
                    result.longs.append(String(body))
                }
            } else if alt.utf8.count == 1, let c = alt.utf8.first {
                result.shorts.append(c)
            } else {
                result.longs.append(String(alt))
            }
        }
        return result
    }
}

struct FlagSpecError: Error {
    var message: String
}

extension Substring {
    var trimmingSpaces: String {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
