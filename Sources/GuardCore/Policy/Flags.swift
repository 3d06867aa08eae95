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
    /// Every option with its value, in order, when asked for (`recording`): what wrappers and downloads read.
    var options: [ParsedOption] = []

    /// Walks `argv` (from `start`, 1 unless the program's own words come first: `setarch ARCH OPTIONS CMD`) as
    /// a program of this `syntax` reads it; words at the indices `unknown` are unknown statically.
    init(argv: [String], syntax: OptionSyntax, unknown: [Int], recording: Bool = false, start: Int = 1) {
        var endOfFlags = false
        var i = start
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
            let plus = lead == UInt8(ascii: "+") && syntax.plusOptions
            if endOfFlags || u.count < 2 || (lead != UInt8(ascii: "-") && !plus) {
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
            if second == UInt8(ascii: "-") && !plus {
                if u.count == 2 {
                    // find's expression goes on after `--` (which ends only its -H/-L/-P options).
                    if !syntax.leadingOperandsOnly {
                        endOfFlags = true
                        optionsEnd = i + 1
                    }
                    continue
                }
                let body = w.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    let name = body[..<eq]
                    longs.append(name)
                    if eq != body.startIndex { prefixable.append(name) }
                    if implies || syntax.argv0Option != nil || recording {
                        let value = String(body[body.index(after: eq)...])
                        if implies { imply(name, short: false, value: value) }
                        if let o = syntax.argv0Option, name == o { argv0 = value }
                        if recording {
                            let full = syntax.longs.resolve(name)?.name ?? String(name)
                            options.append(ParsedOption(name: full, value: value, index: i, valueIndex: i))
                        }
                    }
                } else {
                    longs.append(body)
                    prefixable.append(body)
                    var value: String?
                    let resolved = syntax.longs.isEmpty ? nil : syntax.longs.resolve(body)
                    let at = i
                    if resolved?.arg == .required {
                        value = i + 1 < argv.count ? argv[i + 1] : nil
                        i += 1
                    }
                    if implies { imply(body, short: false, value: value) }
                    if let o = syntax.argv0Option, body == o { argv0 = value }
                    if recording {
                        options.append(
                            ParsedOption(
                                name: resolved?.name ?? String(body), value: value, index: at,
                                valueIndex: value == nil ? nil : at + 1))
                    }
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
                    if syntax.longs.resolve(body)?.arg == .required {
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
                        if recording {
                            let v = i + following < argv.count ? i + following : nil
                            options.append(
                                ParsedOption(
                                    name: String(UnicodeScalar(c)), value: v.map { argv[$0] }, index: i, valueIndex: v))
                        }
                        k = after
                        continue
                    }
                    let attached = after != u.endIndex
                    if implies || recording {
                        let v = attached ? i : (i + 1 < argv.count ? i + 1 : nil)
                        let value = attached ? String(w[after...]) : v.map { argv[$0] }
                        if implies { imply(w[k..<after], short: true, value: value) }
                        if recording {
                            options.append(
                                ParsedOption(name: String(UnicodeScalar(c)), value: value, index: i, valueIndex: v))
                        }
                    }
                    if !attached { i += 1 }
                    break
                }
                if syntax.shortOptionalValue.contains(c) {
                    if recording {
                        let attached = after != u.endIndex
                        options.append(
                            ParsedOption(
                                name: String(UnicodeScalar(c)), value: attached ? String(w[after...]) : nil, index: i,
                                valueIndex: attached ? i : nil))
                    }
                    break
                }
                if recording { options.append(ParsedOption(name: String(UnicodeScalar(c)), index: i)) }
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

    /// The last option (recorded) of these names, as a program that lets a later option win reads it.
    func last(_ names: [String]) -> ParsedOption? { options.last { names.contains($0.name) } }

    /// Whether one of these options is present (recorded).
    func has(_ names: [String]) -> Bool { options.contains { names.contains($0.name) } }

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

/// One option as a program reads it (`ParsedArgs.options`).
struct ParsedOption: Sendable {
    /// A short option's letter, or a long option's full name (as written when its program's table lacks it).
    var name: String
    /// Its value: attached (`-n5`, `--lines=5`), or the next word for an option that takes one.
    var value: String?
    /// The word it is in, and the word that holds its value (the same word when attached; nil without one).
    var index: Int
    var valueIndex: Int?
}
