import Yams

/// The `hosts` and `hosts_outside` match keys: which network hosts a command names, and whether they are the ones
/// a rule lists.
///
/// A command names a host by a URL (`https://github.com/x`, `git+ssh://git@host/r`, `ssh://host:22`) or a
/// `[user@]host:path` target, in the places where the program reads one (its registry entry's `Hosting`: see
/// NetworkPrograms.swift): curl's and wget's operands (with or without a scheme), ssh's destination, scp/sftp/rsync
/// remote paths, the repository of git's clone, fetch, pull, push, ls-remote, remote add and submodule add, pip's
/// and npm's index and registry options and requirement URLs. Words whose value is unknown statically
/// (`curl "$URL"`) name nothing here: the real exec is judged with its real arguments.
enum HostNames {
    /// How a program names the hosts it talks to.
    enum Kind: Sendable {
        /// Every operand is a URL, the scheme optional (`curl example.com/x`).
        case urls
        /// The first operand is the destination: `[user@]host` or a URL (`ssh`, `nc HOST PORT`).
        case destination
        /// Operands `[user@]host:path`, `host::module` or URLs name hosts; local paths do not (`scp`, `rsync`).
        case remotePaths
        /// The repository operand (a URL or `[user@]host:path`) of the subcommands that reach a remote.
        case git
        /// URLs in any argument (index, registry and requirement URLs).
        case packages
    }

    /// The registry entry of the first of `names` that names hosts (`pip3.12` is `pip`).
    static func program(_ names: [String]) -> Program? {
        for n in names { if let p = Programs.lookup(n), p.hosts != nil { return p } }
        return nil
    }

    /// The hosts (lower case) a command names; empty for a program that names none.
    static func named(argv: [String], names: [String], unknown: [Int]) -> [String] {
        guard argv.count > 1, let program = program(names), let hosting = program.hosts else { return [] }
        var out: [String] = []
        func add(_ h: String?) { if let h, !h.isEmpty, !out.contains(h) { out.append(h) } }
        let known = { (i: Int) in unknown.isEmpty || !unknown.contains(i) }
        let parsed = ParsedArgs(
            argv: argv, syntax: program.syntax, unknown: unknown, recording: !hosting.options.isEmpty)
        // Options whose value is a host or URL: `-J host`, `-Jhost`, `--registry URL`, `--registry=URL`.
        for o in parsed.options where hosting.options.contains(o.name) {
            guard let v = o.valueIndex, known(v), let value = o.value else { continue }
            add(host(ofURL: value) ?? host(ofTarget: value, bare: true))
        }
        let operands = parsed.operands.filter(known).map { argv[$0] }
        switch hosting.kind {
        case .urls:
            for w in operands { add(host(ofTarget: w, bare: true)) }
        case .destination:
            // `nc -l 8080` names a port, not a host.
            if let w = operands.first(where: { !$0.allSatisfy(\.isNumber) }) { add(host(ofTarget: w, bare: true)) }
        case .remotePaths:
            for w in operands { add(host(ofTarget: w, bare: false)) }
        case .git:
            // Only the repository operand: later ones are refspecs (`push origin main:main`) or paths.
            var repository: String?
            switch operands.first {
            case "clone", "fetch", "pull", "push", "ls-remote": repository = operands.dropFirst().first
            case "remote" where operands.count >= 4 && ["add", "set-url"].contains(operands[1]):
                repository = operands[3]
            case "submodule" where operands.count >= 3 && operands[1] == "add": repository = operands[2]
            default: break
            }
            if let repository { add(host(ofTarget: repository, bare: false)) }
        case .packages:
            // Index, registry and requirement URLs anywhere (`--index-url=https://...`, `git+https://...`).
            for k in 1..<argv.count where known(k) {
                let w = argv[k]
                if w.hasPrefix("-"), let eq = w.firstIndex(of: "=") {
                    add(host(ofURL: String(w[w.index(after: eq)...])))
                } else {
                    add(host(ofURL: w))
                }
            }
        }
        return out
    }

    /// Whether `w` is a URL: `scheme://...` with a scheme of letters, digits, `+`, `-` and `.`.
    static func isURL(_ w: String) -> Bool { schemeEnd(w) != nil }

    /// The index just past `://` of a URL, or nil: a scheme of ASCII letters, digits, `+`, `-` and `.`, starting
    /// with a letter.
    private static func schemeEnd(_ w: String) -> String.Index? {
        let u = w.utf8
        guard let first = u.first, (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A else { return nil }
        var i = u.startIndex
        while i != u.endIndex {
            let c = u[i]
            if c == 0x3A {
                let rest = u[u.index(after: i)...]
                guard rest.starts(with: [0x2F, 0x2F]) else { return nil }
                return u.index(i, offsetBy: 3)
            }
            let letter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A
            guard letter || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E else { return nil }
            i = u.index(after: i)
        }
        return nil
    }

    /// The host of a URL (`https://user@Host:8443/x` is `host`), or nil when `w` is not a URL.
    static func host(ofURL w: String) -> String? {
        guard let start = schemeEnd(w) else { return nil }
        let authority = w[start...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return hostPart(authority)
    }

    /// The host of a target: a URL, `[user@]host:path` (`host::module`), or with `bare` a plain `host[:port][/path]`
    /// as curl and ssh read one. Nil for a local path (`./a:b`, `/x:y`, a word with `/` before its first `:`).
    static func host(ofTarget w: String, bare: Bool) -> String? {
        if let h = host(ofURL: w) { return h }
        if w.isEmpty || w.hasPrefix("/") || w.hasPrefix(".") || w.hasPrefix("~") || w.hasPrefix("-") { return nil }
        let colon =
            w.hasPrefix("[") ? w.firstIndex(of: "]").flatMap { w[$0...].firstIndex(of: ":") } : w.firstIndex(of: ":")
        if let colon {
            let before = w[..<colon]
            if before.contains("/") { return bare ? hostPart(before.prefix { $0 != "/" }) : nil }
            return hostPart(before)
        }
        guard bare else { return nil }
        return hostPart(w.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
    }

    /// The host of `[user[:password]@]host[:port]` (brackets of an IPv6 address removed), lower case, without a
    /// trailing dot; nil when empty.
    private static func hostPart(_ authority: Substring) -> String? {
        var a = authority
        if let at = a.lastIndex(of: "@") { a = a[a.index(after: at)...] }
        if a.hasPrefix("[") {
            guard let close = a.firstIndex(of: "]") else { return nil }
            a = a[a.index(after: a.startIndex)..<close]
        } else if let colon = a.firstIndex(of: ":") {
            a = a[..<colon]
        }
        while a.hasSuffix(".") { a = a.dropLast() }
        if a.isEmpty || a.contains(where: { $0 == " " || $0 == "\t" || $0 == "{" || $0 == "$" }) { return nil }
        return a.lowercased()
    }
}

extension CompiledMatch {
    /// `hosts` and `hosts_outside` of a command: some named host (an allow rule: every one) matches a `hosts` glob,
    /// and some named host (an allow rule: every one) matches no `hosts_outside` glob. A command that names no host
    /// meets neither.
    func hostsMatch(argv: [String], names: [String], unknown: [Int]) -> Bool {
        let named = HostNames.named(argv: argv, names: names, unknown: unknown)
        if named.isEmpty { return false }
        func listed(_ h: String, _ globs: [Glob]) -> Bool { globs.contains { $0.matches(h) } }
        if !hosts.isEmpty {
            let ok = everyPath ? named.allSatisfy { listed($0, hosts) } : named.contains { listed($0, hosts) }
            if !ok { return false }
        }
        if !hostsOutside.isEmpty {
            let ok =
                everyPath
                ? named.allSatisfy { !listed($0, hostsOutside) } : named.contains { !listed($0, hostsOutside) }
            if !ok { return false }
        }
        return true
    }
}

extension PolicyLoader {
    /// `hosts:` / `hosts_outside:` host globs, lower case; a URL, a path or a port is an error that says what to
    /// write instead.
    mutating func hostGlobs(_ n: Node, key: String) -> [Glob] {
        guard let list = strings(n, key: key, example: "\(key): [github.com, '*.githubusercontent.com']") else {
            return []
        }
        var out: [Glob] = []
        for (s, item) in list {
            var problem: String?
            if s.isEmpty || s.contains(where: { $0 == " " || $0 == "\t" }) {
                problem = "write a host name or glob without spaces, e.g. github.com or '*.pypi.org'"
            } else if let h = HostNames.host(ofURL: s) {
                problem = "'\(s)' is a URL; write its host: \(h)"
            } else if s.contains("/") {
                problem = "'\(s)' is not a host name; write the host alone, e.g. github.com (paths go in args:)"
            } else if s.contains(":") && !s.contains("*") && s.filter({ $0 == ":" }).count == 1 {
                problem = "'\(s)' has a port; write the host alone (\(s.prefix { $0 != ":" }))"
            }
            if let problem {
                errors.append(.invalidValue(loc(item), key: key, message: problem))
                continue
            }
            if let g = glob(s.lowercased(), item, pathMode: false) { out.append(g) }
        }
        return out
    }
}
