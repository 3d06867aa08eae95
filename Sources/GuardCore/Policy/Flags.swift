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

    init(
        short: String = "", optional: String = "", long: [String] = [], singleDashLong: Bool = false,
        leadingOperandsOnly: Bool = false
    ) {
        for c in short.utf8 { shortWithValue.insert(c) }
        for c in optional.utf8 { shortOptionalValue.insert(c) }
        longWithValue = Set(long)
        self.singleDashLong = singleDashLong
        self.leadingOperandsOnly = leadingOperandsOnly
    }

    static let plain = OptionSyntax()

    /// Per-command knowledge of options that take a value, so that `-n 5` is not read as a flag bundle plus an
    /// operand, and `-o FILE` is not taken for a path operand.
    static let table: [String: OptionSyntax] = [
        "git": OptionSyntax(
            short: "CcmFbBoSXe", long: ["git-dir", "work-tree", "namespace", "config-env", "message", "file", "repo"]),
        "curl": OptionSyntax(
            short: "AbcCdDeEFHKmoPQrTuUwxXyYz",
            long: [
                "data", "data-binary", "data-raw", "data-urlencode", "data-ascii", "form", "form-string", "header",
                "output", "upload-file", "user", "request", "url", "cookie", "cookie-jar", "referer", "user-agent",
                "proxy", "max-time", "connect-timeout", "write-out", "config", "json", "retry", "cert", "key",
                "cacert", "output-dir", "resolve", "connect-to", "dump-header", "range", "interface",
            ]),
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
        "bash": OptionSyntax(short: "oO", long: ["rcfile", "init-file"]),
        "sh": OptionSyntax(short: "oO"),
        "dash": OptionSyntax(short: "oO"),
        "zsh": OptionSyntax(short: "oO"),
        "ksh": OptionSyntax(short: "oO"),
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
/// long flags may carry `=value`, and `--` ends the flags: every later word is an operand.
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

    init(argv: [String], syntax: OptionSyntax, unknown: [Int]) {
        var endOfFlags = false
        var i = 1
        var sawExpression = false
        while i < argv.count {
            let w = argv[i]
            defer { i += 1 }
            if !unknown.isEmpty && unknown.contains(i) {
                continue
            }
            let u = w.utf8
            if endOfFlags || u.count < 2 || u.first != 0x2D {
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
            if second == 0x2D {
                if u.count == 2 {
                    endOfFlags = true
                    continue
                }
                let body = w.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    longs.append(body[..<eq])
                    if eq != body.startIndex { prefixable.append(body[..<eq]) }
                } else {
                    longs.append(body)
                    prefixable.append(body)
                    if !syntax.longWithValue.isEmpty && syntax.longWithValue.contains(String(body)) { i += 1 }
                }
                continue
            }
            if syntax.singleDashLong {
                sawExpression = true
                let body = w.dropFirst()
                if let eq = body.firstIndex(of: "=") { longs.append(body[..<eq]) } else { longs.append(body) }
                continue
            }
            var k = u.index(after: u.startIndex)
            while k < u.endIndex {
                let c = u[k]
                shorts.append(c)
                let after = u.index(after: k)
                if syntax.shortWithValue.contains(c) {
                    if after == u.endIndex { i += 1 }
                    break
                }
                if syntax.shortOptionalValue.contains(c) { break }
                k = after
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

/// One flag a rule asks for: alternatives written `r|R|recursive`.
struct FlagAlternatives: Sendable, Hashable {
    var shorts: [UInt8] = []
    var longs: [String] = []

    /// Whether one alternative is present; with `abbreviated`, a long one also when written as a prefix of its
    /// name (`--rec` for `recursive`), as the program itself reads it.
    func present(in args: ParsedArgs, abbreviated: Bool) -> Bool {
        for s in shorts where args.hasShort(s) { return true }
        for l in longs where args.hasLong(l, abbreviated: abbreviated) { return true }
        return false
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
                if body.utf8.count == 1 {
                    result.shorts.append(body.utf8.first!)
                } else {
                    result.longs.append(String(body))
                }
            } else if alt.utf8.count == 1 {
                result.shorts.append(alt.utf8.first!)
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
