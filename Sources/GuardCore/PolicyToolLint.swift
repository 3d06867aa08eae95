/// `claude-guard lint`: validation, and the static checks that find rules which are shadowed or can never match.
extension PolicyTool {
    /// `lint POLICY...`: validates each policy and warns about rules that are shadowed or can never match.
    ///
    /// Exit 0 when valid without warnings, 1 when there are warnings, 2 when a policy does not load.
    public static func lint(paths: [String]) -> Output {
        var out = Output()
        var warned = false
        for path in paths {
            do {
                let policy = try PolicyLocator.load(path)
                let warnings = lint(policy: policy)
                for w in warnings { out.stdout += w + "\n" }
                if warnings.isEmpty {
                    let files = policy.fileRules.isEmpty ? "" : ", \(policy.fileRules.count) file rules"
                    let tests = policy.tests.count + policy.fileTests.count
                    out.stdout += "\(path): ok (\(policy.rules.count) rules\(files), \(tests) tests)\n"
                } else {
                    warned = true
                    out.stdout += "\(path): \(warnings.count) warning\(warnings.count == 1 ? "" : "s")\n"
                }
            } catch {
                out.stderr += "\(error.description)\n"
                out.exitCode = 2
            }
        }
        if out.exitCode == 0 && warned { out.exitCode = 1 }
        return out
    }

    /// Warnings for a valid policy: shadowed rules, rules that can never match, flags matched as strings; then
    /// the file rules' warnings.
    public static func lint(policy: Policy) -> [String] {
        var warnings: [String] = []
        let rules = policy.rules
        for (j, b) in rules.enumerated() {
            for a in rules[..<j] where LintCheck.subsumes(a.match, b.match) {
                warnings.append(
                    "\(b.location): warning: rule '\(b.id)' can never decide: rule '\(a.id)' (line \(a.location.line)) comes first and matches every command it matches; move '\(b.id)' above it or narrow '\(a.id)'"
                )
                break
            }
            if let why = LintCheck.neverMatches(b.match) {
                warnings.append("\(b.location): warning: rule '\(b.id)' can never match: \(why)")
            }
            if let why = LintCheck.urlAllowlist(b) { warnings.append("\(b.location): warning: \(why)") }
            for s in LintCheck.stringFlags(b.match) {
                warnings.append(
                    "\(b.location): warning: rule '\(b.id)' matches the flag spelling '\(s)' as text, so '-fr', '--force' or '-r -f' slip past; use flags: [...] instead"
                )
            }
        }
        return warnings + fileLint(policy: policy)
    }
}

/// The static checks behind `lint`.
enum LintCheck {
    /// Whether every command `b` matches is also matched by `a` (conservative: only provable cases).
    static func subsumes(_ a: CompiledMatch, _ b: CompiledMatch) -> Bool {
        if !a.pipeline.isEmpty || !b.pipeline.isEmpty { return false }
        if !a.regexes.isEmpty || !a.cmdline.isEmpty || a.hasPaths || !a.parent.isEmpty || a.hasUser || a.hasHosts {
            return false
        }
        if a.hasCommand {
            guard b.hasCommand, a.commandGlobs.isEmpty, b.commandGlobs.isEmpty, b.commandPaths.isEmpty,
                a.commandPaths.isEmpty
            else { return false }
            if !Set(b.commandNames).isSubset(of: Set(a.commandNames)) { return false }
        }
        for f in a.flags where !b.flags.contains(f) { return false }
        let bArgs = Set(b.args.map(\.pattern))
        for g in a.args where !bArgs.contains(g.pattern) { return false }
        return true
    }

    /// Why a match can never hold, if it provably cannot.
    static func neverMatches(_ m: CompiledMatch) -> String? {
        // An allow rule needs every operand both under and outside the same prefix: impossible. (A deny rule
        // needs one operand under and one outside, which two operands can satisfy.)
        for u in m.under where m.everyPath {
            for o in m.outside where u.written == o.written {
                return "paths says both under and outside '\(u.written)' for the same prefix"
            }
        }
        for n in m.commandNames where n.contains(" ") {
            return "command '\(n)' contains a space; a program name never does (match arguments with args:)"
        }
        // A command line starts with the program's own name: `command: rm` with `cmdline: 'ls *'` needs an argv[0]
        // of `ls` for an exec of rm, which only a spoofed argv[0] has.
        if !m.commandNames.isEmpty && m.commandPaths.isEmpty && m.commandGlobs.isEmpty && !m.cmdline.isEmpty {
            let firsts = m.cmdline.map { String($0.pattern.prefix { $0 != " " }) }
            let literal = firsts.allSatisfy { w in !w.isEmpty && !w.contains(where: { "*?[\\".contains($0) }) }
            if literal && !firsts.contains(where: { m.commandNames.contains(Paths.basename($0)) }) {
                return
                    "cmdline \(m.cmdline.map { "'\($0.pattern)'" }.joined(separator: ", ")) starts with "
                    + "\(firsts.joined(separator: "/")), but command is \(m.commandNames.joined(separator: "/")): a command line "
                    + "begins with the program's own name (only a spoofed argv[0] would match)"
            }
        }
        // Hosts are read from the programs that name them (curl, wget, git, ssh, scp, rsync, pip, npm, ...).
        if m.hasHosts && m.hasCommand && m.commandGlobs.isEmpty
            && !(m.commandNames + m.commandPaths.map(Paths.basename)).contains(where: { HostNames.program([$0]) != nil }
            )
        {
            return "hosts/hosts_outside: none of its commands names hosts in its arguments as claude-guard reads them"
        }
        // `user:` names unknown on this machine are not flagged: they still match `sudo -u NAME`.
        return nil
    }

    /// An allow rule that lets a command through by one URL-shaped argument: any other URL in the same command
    /// line is let through with it (`curl https://github.com/x https://evil.example/`).
    static func urlAllowlist(_ rule: Policy.Rule) -> String? {
        guard rule.action == .allow, let g = rule.match.args.first(where: { HostNames.isURL($0.pattern) }) else {
            return nil
        }
        return "allow rule '\(rule.id)' lets a command through when one argument matches '\(g.pattern)': another "
            + "URL in the same command rides along; allowlist hosts with hosts: [...] and deny the rest with "
            + "hosts_outside: [...]"
    }

    /// `args`/`cmdline` patterns that spell flags as text (`-rf`), which other spellings slip past.
    static func stringFlags(_ m: CompiledMatch) -> [String] {
        var out: [String] = []
        for g in m.args {
            let p = g.pattern
            if p.hasPrefix("-") && !p.hasPrefix("--") && (3...4).contains(p.count)
                && p.dropFirst().allSatisfy(\.isLetter)
            {
                out.append(p)
            }
        }
        for g in m.cmdline {
            for word in g.pattern.split(separator: " ")
            where word.hasPrefix("-") && !word.hasPrefix("--") && (3...4).contains(word.count)
                && word.dropFirst().allSatisfy(\.isLetter)
            {
                out.append(String(word))
            }
        }
        return out
    }
}
