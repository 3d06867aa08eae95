/// Evaluates commands and shell text against a policy: first matching rule per command, strongest action over a
/// wrapper's payloads and a script's commands and pipelines.
struct Evaluator {
    let policy: Policy
    /// A resolver cache private to one caller (no lock), e.g. one `check --file` run.
    ///
    /// Not optional (a disabled cache when none is given): a check of an optional class reference on every
    /// command compiled to an outlined copy through type metadata.
    let cache: ResolveCache
    let caching: Bool
    /// The program names a file is by identity or content (the live guard's `ProgramIdentity`), for what a runner
    /// loads without an exec (`ld.so /tmp/renamed-rm`); nil offline, where names decide.
    var identify: ((String) -> [String])?
    /// Resolves path operands as the kernel does for the process judged (`PathResolution.swift`); nil: as text.
    var resolver: (any PathResolving)?
    /// Deepest unwrapping (wrapper in shell in wrapper ...) followed before giving `unparsable`.
    static let maxDepth = 24
    /// `--explain`: collects every command judged, with its depth.
    var trace: ExplainTrace?

    init(policy: Policy, cache: ResolveCache? = nil) {
        self.policy = policy
        self.cache = cache ?? ResolveCache()
        self.caching = cache != nil
    }

    /// Resolves a command name; with a cache, also remembers which rules could match it and whether it wraps.
    ///
    /// Returns the name's info: `cached` only when it came from (or went into) the cache; the caller reads the
    /// resolution from it in place, so nothing is copied on a hit.
    @inline(__always)
    func resolve(_ name: String, cwd: String?) -> NameInfo {
        guard caching, !Paths.withBytes(name, { $0.contains(0x2F) }) else {
            return NameInfo(resolved: Paths.resolve(name, cwd: cwd), candidates: [], isWrapper: false, cached: false)
        }
        if let hit = cache.lookup(name) { return hit }
        return resolveMiss(name, cwd: cwd, cache: cache)
    }

    private func resolveMiss(_ name: String, cwd: String?, cache: ResolveCache) -> NameInfo {
        let info = nameInfo(name, Paths.resolve(name, cwd: cwd))
        cache.insert(name, info)
        return info
    }

    /// What a run remembers about a command name resolved to `r`: the rules whose command condition it meets
    /// (and rules without one), and whether it wraps.
    func nameInfo(_ name: String, _ r: Paths.Resolved) -> NameInfo {
        let probeCtx = ExecContext(argv: [name], path: r.real, filename: r.located)
        let probe = Facts(probeCtx)
        var candidates: [Int] = []
        for (i, rule) in policy.rules.enumerated() where rule.match.pipeline.isEmpty {
            if !rule.match.hasCommand || commandMatches(rule.match, probeCtx, probe) { candidates.append(i) }
        }
        return NameInfo(
            resolved: r, candidates: candidates, isWrapper: r.names.contains { Wrappers.wraps($0) }, cached: true)
    }

    /// Facts about one command (the `ExecContext` it is computed from is passed alongside, borrowed, so that a
    /// command's context is never copied to be judged), computed once and lazily.
    struct Facts {
        var names: [String]
        private var _parsed: ParsedArgs?
        private var _cmdline: String?
        private var _paths: [String]??
        private var _resolvedArgs: [String?]?
        /// The words `operandPaths` made its paths from (`~` expanded, not normalised), in the same order.
        private(set) var operandWords: [String] = []

        /// Each argv word (or the value of a `name=value` word) that names a path, made absolute against the
        /// working directory and normalised, when that differs from the word as written; nil elsewhere.
        mutating func resolvedArgs(_ ctx: borrowing ExecContext) -> [String?] {
            if let r = _resolvedArgs { return r }
            var out = [String?](repeating: nil, count: ctx.argv.count)
            let cwd = ctx.cwdUnknown ? nil : (ctx.cwd ?? ctx.workspace)
            for k in 1..<max(ctx.argv.count, 1) where !ctx.unknownWords.contains(k) {
                out[k] = Facts.resolvedPath(ctx.argv[k], cwd: cwd)
            }
            _resolvedArgs = out
            return out
        }

        /// `w` (or the value of `name=value`) as an absolute normal path, when it names one and that differs
        /// from `w`: a value of `name=value`, or a word with a `/` or a leading `.` or `~`.
        static func resolvedPath(_ w: String, cwd: String?) -> String? {
            let u = w.utf8
            guard let first = u.first, !HostNames.isURL(w) else { return nil }
            var key = Substring("")
            var value = Substring(w)
            if let eq = u.firstIndex(of: 0x3D), eq != u.startIndex,
                u[..<eq].allSatisfy({ c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
                        || c == 0x2D || c == 0x2E
                })
            {
                key = w[...eq]
                value = w[w.index(after: eq)...]
            } else if first == 0x2D || !(first == 0x2E || first == 0x7E || u.contains(0x2F)) {
                return nil  // an option, or a word that does not look like a path
            }
            if value.isEmpty { return nil }
            let v = value.hasPrefix("~") ? Paths.tildeExpanded(String(value)) : String(value)
            let path: String
            if v.hasPrefix("/") {
                path = Paths.normalize(v)
            } else if let cwd {
                path = Paths.absolute(v, cwd: cwd)
            } else {
                return nil
            }
            let resolved = key.isEmpty ? path : String(key) + path
            return resolved == w ? nil : resolved
        }

        init(_ ctx: borrowing ExecContext) {
            if let cached = ctx.resolvedNames {
                names = cached
            } else {
                let base = Paths.basename(ctx.path)
                names = [base]
                if let f = ctx.filename {
                    let fb = Paths.basename(f)
                    if fb != base { names.append(fb) }
                }
            }
            if !ctx.identities.isEmpty {
                for i in ctx.identities where !names.contains(i) { names.append(i) }
            }
        }

        mutating func parsed(_ ctx: borrowing ExecContext) -> ParsedArgs {
            if let p = _parsed { return p }
            let p = ParsedArgs(argv: ctx.argv, syntax: syntax(ctx), unknown: ctx.unknownWords)
            _parsed = p
            return p
        }

        /// The option syntax of the first of `names` that has one; remembered per command name in a run.
        private func syntax(_ ctx: borrowing ExecContext) -> OptionSyntax {
            if let info = ctx.nameInfo, ctx.identities.isEmpty {
                if let s = info.syntax { return s }
                let s = Facts.syntax(of: names)
                info.syntax = s
                return s
            }
            return Facts.syntax(of: names)
        }

        private static func syntax(of names: [String]) -> OptionSyntax {
            var syntax = OptionSyntax.plain
            for n in names {
                let s = OptionSyntax.lookup(n)
                if !s.isPlain {
                    syntax = s
                    break
                }
            }
            return syntax
        }

        mutating func cmdline(_ ctx: borrowing ExecContext) -> String {
            if let c = _cmdline { return c }
            let c = ctx.argv.joined(separator: " ")
            _cmdline = c
            return c
        }

        /// Operands as absolute normalised paths; nil for an operand resolved against an unknown directory.
        mutating func operandPaths(_ ctx: borrowing ExecContext) -> [String]? {
            if let p = _paths { return p }
            let parsed = parsed(ctx)
            var out: [String] = []
            var unknownBase = false
            let cwd = ctx.cwd ?? ctx.workspace
            func add(_ word: String) {
                var w = word
                if w.hasPrefix("~") { w = Paths.tildeExpanded(w) }
                if w.hasPrefix("/") {
                    out.append(Paths.normalize(w))
                    operandWords.append(w)
                } else if let cwd, !ctx.cwdUnknown {
                    out.append(Paths.absolute(w, cwd: cwd))
                    operandWords.append(w)
                } else {
                    unknownBase = true
                }
            }
            for i in parsed.operands {
                if let w = PathOperand.path(ctx.argv[i], names: names, argv: ctx.argv) { add(w) }
            }
            // A file standard input is redirected from is read as if named (`cat < FILE`).
            for f in ctx.inputFiles { add(f) }
            for i in ctx.unknownWords {
                // `$HOME/x` and `${HOME}` are the user's home; other unknown words are left to the real exec.
                let w = ctx.argv[i]
                for prefix in ["$HOME", "${HOME}", "\"$HOME\"", "\"${HOME}\""] where w.hasPrefix(prefix) {
                    let rest = w.dropFirst(prefix.count)
                    if rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("\"/") {
                        out.append(Paths.normalize(Paths.home + "/" + rest.filter { $0 != "\"" }))
                        operandWords.append(out[out.count - 1])
                    }
                    break
                }
            }
            let result: [String]? = unknownBase && out.isEmpty ? nil : out
            _paths = .some(result)
            return result
        }
    }

    // MARK: - Commands

    /// Judges one command and what it wraps; `stdin` is what its own text gives it as standard input (a
    /// here-string or here-document), which a shell without `-c` runs and a wrapper passes on to its payload.
    mutating func command(
        _ ctx: borrowing ExecContext, depth: Int, skipText: Bool = false, stdin: Stdin? = nil
    ) -> Outcome {
        if let trace { trace.commands.append((copy ctx, depth)) }
        var facts = Facts(ctx)
        var best = direct(ctx, &facts, skipText: skipText)
        if facts.names.contains("mv") && policy.judgesMoves { best.merge(movedDelete(ctx, &facts, depth: depth)) }
        if depth > Evaluator.maxDepth {
            best.merge(
                Outcome(
                    action: policy.unparsable, matched: facts.cmdline(ctx),
                    reason: "wrappers nested deeper than \(Evaluator.maxDepth) levels"))
            return best
        }
        if let info = ctx.nameInfo, ctx.identities.isEmpty,
            !info.isWrapper || (info.isGit && !ctx.argv.contains("-c"))
        {
            return best
        }
        for payload in Wrappers.unwrap(
            names: facts.names, argv: ctx.argv, unknown: ctx.unknownWords, stdin: stdin ?? Stdin())
        {
            switch payload {
            case .exec(let e):
                if e.unknown.contains(0) || e.argv.isEmpty {
                    best.merge(unknownCommand(e.argv.first ?? ""))
                    continue
                }
                var cwd = ctx.cwd
                var cwdUnknown = ctx.cwdUnknown
                if let dir = e.chdir {
                    if dir.hasPrefix("/") {
                        cwd = Paths.normalize(dir)
                    } else if let c = cwd {
                        cwd = Paths.absolute(dir, cwd: c)
                    } else {
                        cwdUnknown = true
                    }
                }
                // A runner's payload is the file it loads (`ld.so ./x`), whatever argv[0] it is shown.
                let info = resolve(e.program ?? e.argv[0], cwd: cwd)
                var inner = ExecContext(
                    argv: e.argv, path: info.resolved.real, filename: info.resolved.located, cwd: cwd,
                    uid: ctx.uid, userName: ctx.userName,
                    parent: copy ctx, workspace: ctx.workspace)
                // Loaded without an exec, it is never judged at one: know it by identity here (a renamed copy).
                // (Its absolute path as written: `/proc/self/fd/3` names the process's file, not the guard's.)
                if e.program != nil, let identify { inner.identities = identify(info.resolved.located) }
                inner.cwdUnknown = cwdUnknown
                inner.resolvedNames = info.resolved.names
                inner.nameInfo = info.cached ? info : nil
                inner.unknownWords = e.unknown
                inner.inputFiles = ctx.inputFiles
                if let u = e.user { setUser(&inner, u) }
                best.merge(command(inner, depth: depth + 1, stdin: stdin))
            case .script(let text, let user):
                var template = copy ctx
                template.argv = []
                template.parent = copy ctx
                template.unknownWords = []
                if let user { setUser(&template, user) }
                best.merge(script(text, template: template, depth: depth + 1))
            case .unknown(let raw):
                best.merge(unknownCommand(raw))
            }
        }
        return best
    }

    private func setUser(_ ctx: inout ExecContext, _ user: String) {
        ctx.userName = user
        ctx.uid = Paths.uid(of: user) ?? UInt32(user)
    }

    private func unknownCommand(_ raw: String) -> Outcome {
        Outcome(
            action: policy.unknownCommand, matched: raw,
            reason: "command name '\(raw)' is unknown until run (settings.unknown_command)")
    }

    /// The first rule (in file order) that matches the command itself, else the default.
    mutating func direct(_ ctx: borrowing ExecContext, _ facts: inout Facts, skipText: Bool = false) -> Outcome {
        if let info = ctx.nameInfo, ctx.identities.isEmpty {
            // Candidates computed once per name: their command condition already holds.
            for i in info.candidates {
                let m = policy.rules[i].match
                if skipText && m.isTextOnly { continue }
                if matches(m, ctx, &facts, skipCommand: true) {
                    return Outcome(action: policy.rules[i].action, rule: i, argv: ctx.argv)
                }
            }
            return defaultOutcome(ctx.argv)
        }
        let candidates = candidates(facts.names)
        for i in candidates {
            // A rule reached through the name index already matched by command name.
            let m = policy.rules[i].match
            if skipText && m.isTextOnly { continue }
            if matches(m, ctx, &facts, skipCommand: m.indexable && m.commandPaths.isEmpty) {
                return Outcome(action: policy.rules[i].action, rule: i, argv: ctx.argv)
            }
        }
        return defaultOutcome(ctx.argv)
    }

    /// No rule matched. An allow without a rule shows neither its command nor a reason, so it carries neither.
    @inline(__always)
    private func defaultOutcome(_ argv: [String]) -> Outcome {
        if policy.defaultAction == .allow { return Outcome(action: .allow) }
        return Outcome(action: policy.defaultAction, argv: argv, reason: "no rule matched (default)")
    }

    private func candidates(_ names: [String]) -> [Int] {
        if names.count == 1 { return policy.index[names[0]] ?? policy.generic }
        var lists: [[Int]] = []
        for n in names { if let l = policy.index[n] { lists.append(l) } }
        if lists.isEmpty { return policy.generic }
        if lists.count == 1 { return lists[0] }
        return Array(Set(lists.joined())).sorted()
    }

    // MARK: - Matching

    func matches(_ m: CompiledMatch, _ ctx: borrowing ExecContext, _ f: inout Facts, skipCommand: Bool = false) -> Bool
    {
        if !skipCommand && m.hasCommand && !commandMatches(m, ctx, f) { return false }
        if !m.args.isEmpty {
            let argv = ctx.argv
            // Glob patterns with a `/` are also tried on each word's path made absolute and normal
            // (`of=//dev/sda`, `of=sda` run in /dev: `of=/dev/sda`): a rule that acts needs either form to match,
            // an allow rule both.
            let resolved = m.argsNamePaths ? f.resolvedArgs(ctx) : nil
            for g in m.args {
                var hit = false
                for k in 1..<max(argv.count, 1) {
                    let raw = g.matches(argv[k])
                    guard let r = resolved?[k], g.namesPaths else {
                        if raw {
                            hit = true
                            break
                        }
                        continue
                    }
                    if m.abbreviatedFlags ? (raw || g.matches(r)) : (raw && g.matches(r)) {
                        hit = true
                        break
                    }
                }
                if !hit { return false }
            }
        }
        if !m.flags.isEmpty {
            let p = f.parsed(ctx)
            for alt in m.flags where !alt.present(in: p, abbreviated: m.abbreviatedFlags) { return false }
        }
        if !m.cmdline.isEmpty {
            let line = f.cmdline(ctx)
            if !m.cmdline.contains(where: { $0.matches(line) }) { return false }
        }
        if !m.regexes.isEmpty {
            let line = f.cmdline(ctx)
            if !m.regexes.contains(where: { $0.search(line) }) { return false }
        }
        if m.hasPaths && !pathsMatch(m, ctx, &f) { return false }
        if m.hasUser && !userMatches(m, ctx) { return false }
        if m.hasHosts && !m.hostsMatch(argv: ctx.argv, names: f.names, unknown: ctx.unknownWords) { return false }
        if !m.parent.isEmpty {
            guard let parent = ctx.parent else { return false }
            var pf = Facts(parent)
            if !matches(m.parent[0], parent, &pf) { return false }
        }
        return true
    }

    private func commandMatches(_ m: CompiledMatch, _ ctx: borrowing ExecContext, _ f: borrowing Facts) -> Bool {
        m.commandMatches(names: f.names, path: ctx.path, filename: ctx.filename)
    }

    private func pathsMatch(_ m: CompiledMatch, _ ctx: borrowing ExecContext, _ f: inout Facts) -> Bool {
        if let resolver, let r = resolvedPathsMatch(m, ctx, &f, resolver) { return r }
        guard let paths = f.operandPaths(ctx) else {
            // Relative operands against an unknown directory: they may be anywhere, so `outside` holds.
            return m.under.isEmpty && !m.outside.isEmpty && !m.everyPath
        }
        if paths.isEmpty { return false }
        if let fast = pathsMatchASCII(m, paths, ctx.workspace) { return fast }
        let ws = ctx.workspace.map(Paths.normalize)
        // An allow rule needs every path operand to qualify, a deny rule one: neither can be dodged by adding
        // an operand (`rm -rf build /` is not "under build"; `cat README ~/.ssh/id_rsa` is "under ~/.ssh").
        if !m.under.isEmpty {
            let ok = m.under.withUnsafeBufferPointer { pats in
                Evaluator.qualify(paths, every: m.everyPath) { Evaluator.anyContains(pats, $0, ws) }
            }
            if !ok { return false }
        }
        if !m.outside.isEmpty {
            // Outside every listed prefix; a prefix that cannot be known (no workspace) holds nothing.
            let ok = m.outside.withUnsafeBufferPointer { pats in
                Evaluator.qualify(paths, every: m.everyPath) { !Evaluator.anyContains(pats, $0, ws) }
            }
            if !ok { return false }
        }
        return true
    }

    /// `pathsMatch` over bytes when the workspace, every path and every pattern are ASCII, normal and literal
    /// (nearly always); nil otherwise. The same answers: a literal prefix compared byte by byte.
    private func pathsMatchASCII(_ m: CompiledMatch, _ paths: [String], _ workspace: String?) -> Bool? {
        func run(_ ws: UnsafeBufferPointer<UInt8>?) -> Bool? {
            var underHit = false, outsideHit = false
            var underAll = true, outsideAll = true
            for path in paths {
                let r: (Bool, Bool)? = Paths.withBytes(path) { p -> (Bool, Bool)? in
                    guard Paths.isASCII(p), Paths.isNormalBytes(p),
                        let inUnder = Evaluator.anyContains(ascii: m.under, p, ws),
                        let inOutside = Evaluator.anyContains(ascii: m.outside, p, ws)
                    else { return nil }
                    return (inUnder, inOutside)
                }
                guard let (u, o) = r else { return nil }
                if u { underHit = true } else { underAll = false }
                // `outside` holds for a path in none of the listed prefixes.
                if !o { outsideHit = true } else { outsideAll = false }
            }
            if !m.under.isEmpty && !(m.everyPath ? underAll : underHit) { return false }
            if !m.outside.isEmpty && !(m.everyPath ? outsideAll : outsideHit) { return false }
            return true
        }
        guard let workspace else { return run(nil) }
        return Paths.withBytes(workspace) { w -> Bool? in
            guard Paths.isASCII(w), Paths.isNormalBytes(w) else { return nil }
            return run(w)
        }
    }

    /// Whether one of `pats` holds the ASCII normal `path`; nil when one of them needs the general test.
    @inline(__always)
    private static func anyContains(
        ascii pats: [PathPattern], _ path: UnsafeBufferPointer<UInt8>, _ ws: UnsafeBufferPointer<UInt8>?
    ) -> Bool? {
        for pat in pats {
            guard let c = pat.contains(ascii: path, workspace: ws) else { return nil }
            if c { return true }
        }
        return false
    }

    /// Every path (`every`) or one path satisfies `test`.
    @inline(__always)
    private static func qualify(_ paths: [String], every: Bool, _ test: (String) -> Bool) -> Bool {
        if every {
            for p in paths where !test(p) { return false }
            return true
        }
        for p in paths where test(p) { return true }
        return false
    }

    /// Whether one of `pats` holds `path` (borrowed in place: no pattern is copied).
    @inline(__always)
    private static func anyContains(_ pats: UnsafeBufferPointer<PathPattern>, _ path: String, _ ws: String?) -> Bool {
        for k in pats.indices where pats[k].contains(path, workspace: ws) == true { return true }
        return false
    }

    private func userMatches(_ m: CompiledMatch, _ ctx: borrowing ExecContext) -> Bool {
        if let uid = ctx.uid {
            if m.uids.contains(uid) { return true }
            if let name = ctx.userName ?? Paths.userName(uid), m.userNames.contains(name) { return true }
        } else if let name = ctx.userName, m.userNames.contains(name) {
            return true
        }
        return false
    }

    // MARK: - Scripts

    mutating func script(_ text: String, template: borrowing ExecContext, depth: Int) -> Outcome {
        // One parse buffer per nesting depth, kept across calls: a `check --file` run parses every line into
        // the same storage instead of allocating and destroying a script per line.
        var parsed = ShellScript()
        if depth < scratch.count { swap(&parsed, &scratch[depth]) }
        var copy = text
        copy.withUTF8 { ShellParser.parse($0, into: &parsed) }
        let outcome = script(parsed, text: text, template: template, depth: depth)
        if depth < Evaluator.scratchDepth {
            while scratch.count <= depth { scratch.append(ShellScript()) }
            swap(&parsed, &scratch[depth])
        }
        return outcome
    }

    /// Parse buffers kept, by depth (deeper scripts are rare and parse into fresh storage).
    private var scratch: [ShellScript] = []
    private static let scratchDepth = 4

    mutating func script(_ s: ShellScript, text: String, template: borrowing ExecContext, depth: Int) -> Outcome {
        var best = Outcome(action: .allow)
        if depth > Evaluator.maxDepth {
            return Outcome(
                action: policy.unparsable, matched: text,
                reason: "shell nested deeper than \(Evaluator.maxDepth) levels (settings.unparsable)")
        }
        var cwd = template.cwd
        var cwdUnknown = template.cwdUnknown
        var contexts = [ExecContext?](repeating: nil, count: s.pipelines.isEmpty ? 0 : s.commands.count)
        // A file downloaded and then run in the same text is judged as a pipeline (see `fileFeeds`): from the
        // first download on, every command's context is kept.
        var downloads = false
        for i in s.commands.indices {
            // Only argv and its unknown words (shared arrays): the whole command is not copied.
            let argv = s.commands[i].expanded?.argv ?? s.commands[i].argv
            let unknown = s.commands[i].expanded?.unknown ?? s.commands[i].unknown
            guard let name = argv.first else { continue }
            if unknown.first == 0 {
                best.merge(unknownCommand(name))
                continue
            }
            if name == "cd" || name == "pushd" {
                var target: Int?
                for k in 1..<max(argv.count, 1)
                where !(!unknown.contains(k) && argv[k].hasPrefix("-") && argv[k].count > 1) {
                    target = k
                    break
                }
                if let k = target {
                    let t = argv[k]
                    if unknown.contains(k) {
                        cwdUnknown = !(t == "$HOME" || t == "${HOME}")
                        if !cwdUnknown { cwd = Paths.home }
                    } else if t.hasPrefix("/") {
                        cwd = Paths.normalize(t)
                        cwdUnknown = false
                    } else if t.hasPrefix("~"), case let e = Paths.tildeExpanded(t), e.hasPrefix("/") {
                        cwd = Paths.normalize(e)
                        cwdUnknown = false
                    } else if t == "-" {
                        cwdUnknown = true
                    } else if let c = cwd {
                        cwd = Paths.absolute(t, cwd: c)
                    }
                } else {
                    cwd = Paths.home
                    cwdUnknown = false
                }
            }
            let info = resolve(name, cwd: cwd)
            if info.isDownloader && !downloads && !policy.pipelineRules.isEmpty {
                downloads = true
                if contexts.isEmpty { contexts = [ExecContext?](repeating: nil, count: s.commands.count) }
            }
            if contexts.isEmpty, info.cached, info.candidates.isEmpty, !info.isWrapper, depth + 1 <= Evaluator.maxDepth
            {
                // No rule can match this name and nothing is wrapped: the default, without building a context.
                if policy.defaultAction != .allow { best.merge(defaultOutcome(argv)) }
                continue
            }
            // What it reads as its script when it is a shell without -c (or wraps one).
            let stdin = !info.cached || (info.isWrapper && !info.isGit) ? s.commands[i].stdinText() : nil
            let ctx = ExecContext(
                command: argv, path: info.resolved.real, filename: info.resolved.located, cwd: cwd,
                cwdUnknown: cwdUnknown, unknownWords: unknown, resolvedNames: info.resolved.names,
                nameInfo: info.cached ? info : nil,
                inputFiles: s.commands[i].redirections.isEmpty ? [] : s.commands[i].inputFiles(), template: template)
            // Text-only rules were tried on the whole script text above; its commands skip them.
            best.merge(command(ctx, depth: depth + 1, skipText: true, stdin: stdin))
            if !contexts.isEmpty { contexts[i] = consume ctx }
        }
        for r in policy.scriptRules {
            let m = policy.rules[r].match
            if (m.cmdline.isEmpty || m.cmdline.contains(where: { $0.matches(text) }))
                && (m.regexes.isEmpty || m.regexes.contains(where: { $0.search(text) }))
            {
                best.merge(Outcome(action: policy.rules[r].action, rule: r, matched: text))
                break
            }
        }
        // `echo TEXT | sh`: a shell that reads its script from a pipe whose producer prints known text runs that text.
        for pl in s.pipelines where pl.stages.count >= 2 {
            for k in 1..<pl.stages.count {
                // The producer, past stages that pass their input on (`echo x | tee log | sh`, `| cat |`).
                var p = k - 1
                while p > 0, pl.stages[p].count == 1, let c = contexts[pl.stages[p][0]], Evaluator.passesInput(c) {
                    p -= 1
                }
                guard pl.stages[p].count == 1, pl.stages[k].count == 1,
                    let producer = contexts[pl.stages[p][0]], let consumer = contexts[pl.stages[k][0]],
                    let printed = Evaluator.printed(producer)
                else { continue }
                best.merge(command(consumer, depth: depth + 1, skipText: true, stdin: printed))
            }
        }
        if !policy.pipelineRules.isEmpty {
            for pl in s.pipelines {
                best.merge(pipeline(pl, contexts))
            }
            if downloads {
                for pl in Evaluator.fileFeeds(&contexts) { best.merge(pipeline(pl, contexts)) }
            }
        }
        if let e = s.error {
            best.merge(
                Outcome(
                    action: policy.unparsable, matched: text,
                    reason: "\(e.description) (settings.unparsable)"))
        }
        return best
    }

    /// What `echo` or `printf` prints: `echo [-neE] WORDS` (escapes with -e), `printf FORMAT [ARGS]` with `%s`
    /// directives and escapes; unknown (with its source text) when a word is unknown. Nil for other programs.
    static func printed(_ ctx: borrowing ExecContext) -> Stdin? {
        var argv = ctx.argv
        // `command echo …`, `builtin printf …`: the builtin itself prints.
        while let first = argv.first, ["command", "builtin"].contains(Paths.basename(first)), argv.count > 1,
            !argv[1].hasPrefix("-"), !ctx.unknownWords.contains(1)
        {
            argv.removeFirst()
        }
        guard let first = argv.first else { return nil }
        let name = Paths.basename(first)
        guard name == "echo" || name == "printf" else { return nil }
        if !ctx.unknownWords.isEmpty { return Stdin(text: argv.dropFirst().joined(separator: " "), unknown: true) }
        return printedText(argv, name).map { Stdin(text: $0) }
    }

    /// A stage that writes its standard input on unchanged: `tee [FILE…]`, `cat` with no operand (or `-`).
    static func passesInput(_ ctx: borrowing ExecContext) -> Bool {
        guard let first = ctx.argv.first, ctx.unknownWords.isEmpty else { return false }
        switch Paths.basename(first) {
        case "tee": return true
        case "cat": return ctx.argv.dropFirst().allSatisfy { $0 == "-" || ($0.hasPrefix("-") && $0 != "--") }
        default: return false
        }
    }

    private static func printedText(_ argv: [String], _ name: String) -> String? {
        func unescape(_ s: String) -> String {
            s.replacingAll("\\n", with: "\n").replacingAll("\\t", with: "\t")
        }
        if name == "echo" {
            var k = 1
            var escapes = false
            while k < argv.count, argv[k].hasPrefix("-"), argv[k].count > 1,
                argv[k].dropFirst().allSatisfy({ $0 == "n" || $0 == "e" || $0 == "E" })
            {
                if argv[k].contains("e") { escapes = true }
                if argv[k].contains("E") { escapes = false }
                k += 1
            }
            let text = argv[min(k, argv.count)...].joined(separator: " ")
            return escapes ? unescape(text) : text
        }
        if name == "printf", argv.count >= 2 {
            var format = argv[1]
            var args = argv.dropFirst(2).makeIterator()
            while let r = format.range(of: "%s") { format.replaceSubrange(r, with: args.next() ?? "") }
            if format.contains("%") && !format.contains("%%") { return nil }
            return unescape(format.replacingAll("%%", with: "%"))
        }
        return nil
    }

    // MARK: - Downloaded files run later

    /// `curl -o F URL && sh F`, `wget URL; chmod +x F; ./F`: a file a download writes, run later in the same text,
    /// makes a two-stage pipeline (the download, then what runs the file), judged by the pipeline rules as
    /// `curl URL | sh` is. A file run directly (`./F`) is run by an interpreter: a stage `sh F` is added for it.
    static func fileFeeds(_ contexts: inout [ExecContext?]) -> [ShellPipeline] {
        var written: [(index: Int, path: String)] = []
        var out: [ShellPipeline] = []
        for j in contexts.indices {
            guard let ctx = contexts[j] else { continue }
            if !written.isEmpty, let run = fileRun(ctx), let w = written.last(where: { $0.path == run.path }) {
                var stage = j
                if run.direct {
                    var sh = ExecContext(
                        argv: ["sh", run.path], path: "/bin/sh", cwd: ctx.cwd, workspace: ctx.workspace)
                    sh.resolvedNames = ["sh"]
                    contexts.append(sh)
                    stage = contexts.count - 1
                }
                out.append(ShellPipeline(stages: [[w.index], [stage]]))
            }
            for path in downloadedFiles(ctx) { written.append((j, path)) }
        }
        return out
    }

    /// The files a curl or wget command writes (absolute): `curl -o F`, `curl -O URL`, `wget -O F`, `wget URL`.
    static func downloadedFiles(_ ctx: borrowing ExecContext) -> [String] {
        let argv = ctx.argv
        guard let first = argv.first, !ctx.cwdUnknown, let cwd = ctx.cwd ?? ctx.workspace else { return [] }
        let name = Paths.basename(first)
        guard name == "curl" || name == "wget" else { return [] }
        let syntax = OptionSyntax.lookup(name)
        let outputLetter: UInt8 = name == "curl" ? 0x6F : 0x4F  // curl -o FILE, wget -O FILE
        let outputLong = name == "curl" ? "output" : "output-document"
        var files: [String] = []
        var remoteName = name == "wget"  // wget saves to the URL's last path segment unless told otherwise
        var urls: [String] = []
        var k = 1
        while k < argv.count {
            let w = argv[k]
            k += 1
            if ctx.unknownWords.contains(k - 1) { continue }
            if w.hasPrefix("--"), w.count > 2 {
                let body = w.dropFirst(2)
                let eq = body.firstIndex(of: "=")
                let opt = eq.map { body[..<$0] } ?? body
                if !opt.isEmpty, outputLong.hasPrefix(opt), opt.count >= 3 {
                    let v = eq.map { String(body[body.index(after: $0)...]) } ?? (k < argv.count ? argv[k] : "")
                    if eq == nil { k += 1 }
                    if v != "-" && !v.isEmpty { files.append(v) }
                    remoteName = false
                } else if name == "curl" && (opt == "remote-name" || opt == "remote-name-all") {
                    remoteName = true
                } else if eq == nil, syntax.longWithValue.contains(String(opt)) {
                    k += 1
                }
                continue
            }
            if w.hasPrefix("-"), w.count > 1 {
                let body = Array(w.utf8.dropFirst())
                for (i, c) in body.enumerated() {
                    if c == outputLetter {
                        let v =
                            i + 1 < body.count
                            ? String(decoding: body[(i + 1)...], as: UTF8.self) : (k < argv.count ? argv[k] : "")
                        if i + 1 == body.count { k += 1 }
                        if v != "-" && !v.isEmpty { files.append(v) }
                        remoteName = false
                        break
                    }
                    if name == "curl" && c == 0x4F { remoteName = true }
                    if syntax.shortWithValue.contains(c) {
                        if i + 1 == body.count { k += 1 }
                        break
                    }
                }
                continue
            }
            if w.contains("://") { urls.append(w) }
        }
        if remoteName {
            for u in urls {
                var path = u.split(separator: "?", maxSplits: 1).first.map(String.init) ?? u
                path = String(path.split(separator: "#", maxSplits: 1).first ?? Substring(path))
                let base = Paths.basename(path)
                if !base.isEmpty && !path.hasSuffix("/") && path.components(separatedBy: "/").count > 3 {
                    files.append(base)
                }
            }
        }
        return files.map { Paths.absolute($0, cwd: cwd) }
    }

    static let interpreters: Set<String> = [
        "sh", "bash", "dash", "zsh", "ksh", "fish", "perl", "ruby", "node", "php", "source", ".",
    ]

    /// The file a command runs as a program or script: `./F` or `/path/F` itself (`direct`), or the first operand
    /// of an interpreter (`sh F`, `bash -x F`, `python3 F`), or a file sourced (`source F`, `. F`: `direct` too,
    /// as the shell itself runs it); nil otherwise.
    static func fileRun(_ ctx: borrowing ExecContext) -> (path: String, direct: Bool)? {
        fileRun(
            argv: ctx.argv, unknown: ctx.unknownWords, cwd: ctx.cwdUnknown ? nil : ctx.cwd ?? ctx.workspace, depth: 0)
    }

    /// `fileRun` of an argv, and of what it wraps (`timeout 5 bash F`, `env sh F`, `nohup ./F`).
    private static func fileRun(
        argv: [String], unknown: [Int], cwd: String?, depth: Int
    ) -> (path: String, direct: Bool)? {
        if depth < 6, let first = argv.first, !unknown.contains(0), case let name = Paths.basename(first),
            Wrappers.wraps(name), name != "git"
        {
            for payload in Wrappers.unwrap(names: [name], argv: argv, unknown: unknown) {
                guard case .exec(var e) = payload, !e.argv.isEmpty else { continue }
                if let program = e.program { e.argv[0] = program }
                var dir = cwd
                if let c = e.chdir {
                    dir = c.hasPrefix("/") ? Paths.normalize(c) : dir.map { Paths.absolute(c, cwd: $0) }
                }
                if let run = fileRun(argv: e.argv, unknown: e.unknown, cwd: dir, depth: depth + 1) { return run }
            }
        }
        return fileRunDirect(argv: argv, unknown: unknown, cwd: cwd)
    }

    private static func fileRunDirect(argv: [String], unknown: [Int], cwd: String?) -> (path: String, direct: Bool)? {
        guard let first = argv.first, let cwd else { return nil }
        if first.contains("/") { return (Paths.absolute(first, cwd: cwd), true) }
        let name = Paths.basename(first)
        guard Evaluator.interpreters.contains(name) || name.hasPrefix("python") else { return nil }
        for k in 1..<max(argv.count, 1) {
            let w = argv[k]
            if unknown.contains(k) { return nil }
            if w.hasPrefix("-") {
                // `sh -c TEXT` runs text, not a file; `python -m MOD` a module.
                if w == "-c" || w == "-m" || (!w.hasPrefix("--") && w.contains("c") && Wrappers.shells.contains(name)) {
                    return nil
                }
                continue
            }
            // `source F` and `. F` run it in the shell itself: judged as `sh F` too.
            return (Paths.absolute(w, cwd: cwd), name == "source" || name == ".")
        }
        return nil
    }

    private mutating func pipeline(_ pl: ShellPipeline, _ contexts: [ExecContext?]) -> Outcome {
        for r in policy.pipelineRules {
            let stages = policy.rules[r].match.pipeline
            var j = 0
            var hitCommands: [String] = []
            for stage in pl.stages where j < stages.count {
                for ci in stage {
                    guard let ctx = contexts[ci] else { continue }
                    if quickReject(stages[j], ctx) { continue }
                    if stageMatches(stages[j], ctx, depth: 0) {
                        hitCommands.append(shellJoin(ctx.argv))
                        j += 1
                        break
                    }
                }
            }
            if j == stages.count {
                return Outcome(action: policy.rules[r].action, rule: r, matched: hitCommands.joined(separator: " | "))
            }
        }
        return Outcome(action: .allow)
    }

    /// True when a stage with plain command names provably cannot match a non-wrapper command (cheap test).
    private func quickReject(_ m: CompiledMatch, _ ctx: borrowing ExecContext) -> Bool {
        guard let info = ctx.nameInfo, !info.isWrapper, ctx.identities.isEmpty, m.hasCommand,
            m.commandGlobs.isEmpty, m.commandPaths.isEmpty
        else { return false }
        for n in info.resolved.names where m.commandNames.contains(n) { return false }
        return true
    }

    /// Whether a pipeline stage's command, or a program it wraps (`sudo sh`, `env bash`), matches.
    private mutating func stageMatches(_ m: CompiledMatch, _ ctx: borrowing ExecContext, depth: Int) -> Bool {
        var f = Facts(ctx)
        if matches(m, ctx, &f) { return true }
        guard depth < Evaluator.maxDepth else { return false }
        for payload in Wrappers.unwrap(names: f.names, argv: ctx.argv, unknown: ctx.unknownWords) {
            var runs: [(argv: [String], unknown: [Int])] = []
            switch payload {
            case .exec(var e):
                // A runner's program is its operand, whatever argv[0] it is shown.
                if let program = e.program { e.argv[0] = program }
                runs = [(e.argv, e.unknown)]
            case .script(let text, _):
                // `eval bash`, `watch bash`, `sh -c 'curl x'`: the commands of the text fill the stage as well.
                runs = ShellScript.parse(text).commands.map {
                    ($0.expanded?.argv ?? $0.argv, $0.expanded?.unknown ?? $0.unknown)
                }
            case .unknown: continue
            }
            for (argv, unknown) in runs where !argv.isEmpty && !unknown.contains(0) {
                if stageMatches(m, argv: argv, unknown: unknown, in: ctx, depth: depth) { return true }
            }
        }
        return false
    }

    /// `stageMatches` for what a stage's command runs (`argv`), in that command's directory, user and workspace.
    private mutating func stageMatches(
        _ m: CompiledMatch, argv: [String], unknown: [Int], in ctx: borrowing ExecContext, depth: Int
    ) -> Bool {
        let info = resolve(argv[0], cwd: ctx.cwd)
        var inner = ExecContext(
            argv: argv, path: info.resolved.real, filename: info.resolved.located, cwd: ctx.cwd, uid: ctx.uid,
            userName: ctx.userName, workspace: ctx.workspace)
        inner.unknownWords = unknown
        inner.resolvedNames = info.resolved.names
        inner.inputFiles = ctx.inputFiles
        return stageMatches(m, inner, depth: depth + 1)
    }
}
