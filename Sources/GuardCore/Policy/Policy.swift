import Foundation

/// A loaded, validated and compiled policy (SPEC §3).
///
/// Load one with `Policy.load(path:)` or `Policy.load(yaml:file:)`, or use `Policy.embeddedDefault`; judge an exec
/// with `evaluate(_:)` and a shell command line with `evaluate(commandLine:...)`.
public struct Policy: Sendable {
    /// The policy's `name:`.
    public var name: String
    /// The policy's `description:`.
    public var description: String?
    /// Whether violations are acted on (`enforce`) or only recorded (`audit`).
    public var mode: PolicyMode
    /// Action for commands that no rule matches (`default:`).
    public var defaultAction: Action
    /// How long a held process may wait for a verdict (`settings.hold_timeout_ms`).
    public var holdTimeoutMs: Int
    /// What a held process gets when no verdict came in time (`settings.on_timeout`: kill or allow).
    public var onTimeout: Action
    /// Action for a command whose name is unknowable statically, e.g. `$CMD args` (`settings.unknown_command`).
    ///
    /// Defaults to allow: the real exec of that program is checked again when it happens.
    public var unknownCommand: Action
    /// Action for shell text that does not parse or exceeds the parser's bounds (`settings.unparsable`).
    public var unparsable: Action
    /// Action for an exec of a program some rule names with an `LD_PRELOAD`/`LD_AUDIT` library from outside the
    /// system's library directories (`settings.preload`): its constructor runs before main and can rewrite the
    /// argv the guard judged. Defaults to kill (fail closed).
    public var preload: Action = .kill
    /// Action for an exec of a program some rule names by a task that is being traced (`settings.traced_exec`):
    /// the tracer can rewrite the new image at the exec stop. Defaults to kill.
    public var tracedExec: Action = .kill
    /// Action for a guarded process attaching to (ptrace) or writing the memory of (process_vm_writev) a process
    /// outside the guarded trees (`settings.ptrace`). kill: the tracer dies before the call returns to it; stop:
    /// it is held there. Defaults to kill.
    public var ptrace: Action = .kill
    /// Action for a guarded process signalling one of the guard's own processes (`settings.tamper`: allow, alert
    /// or kill): a stop signal is undone at once and any other is ignored by the guard whatever this says (allow
    /// turns that off); kill: the sender dies too. Defaults to kill.
    public var tamper: Action = .kill
    /// The rules in file order.
    public internal(set) var rules: [Rule]
    /// The policy's own test cases (`tests:`) for commands.
    public internal(set) var tests: [PolicyTest]
    /// The file rules (`files:`) in file order; `judgeFile(path:access:processPath:workspace:)` applies them.
    public internal(set) var fileRules: [FileRule] = []
    /// The policy's test cases for file rules (`tests:` entries with `file:`).
    public internal(set) var fileTests: [FileTest] = []
    /// The file the policy came from.
    public var file: String

    var index: [String: [Int]] = [:]
    var generic: [Int] = []
    var pipelineRules: [Int] = []
    /// Rules with only `cmdline`/`regex`: also tried on the whole text of each shell script.
    var scriptRules: [Int] = []

    /// One rule: an id, a match and the action taken when it matches.
    public struct Rule: Sendable {
        public var id: String
        public var description: String?
        public var action: Action
        public var severity: Severity?
        public var location: SourceLocation
        var match: CompiledMatch
    }

    /// One `tests:` entry: a command line and the action (and optionally rule) expected for it.
    public struct PolicyTest: Sendable {
        public var command: String
        public var expect: Action
        public var rule: String?
        public var cwd: String?
        public var workspace: String?
        public var user: String?
        public var location: SourceLocation
    }

    /// Loads and validates the policy at `path`.
    ///
    /// - Throws: `PolicyError` naming file:line:column and what to write instead; nothing is half-loaded.
    public static func load(path: String) throws(PolicyError) -> Policy {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            let reason =
                FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
                ? (isDir.boolValue ? "it is a directory" : "permission denied") : "no such file"
            throw .unreadable(file: path, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(file: path, reason: "the file is not UTF-8 text")
        }
        return try load(yaml: text, file: path)
    }

    /// Loads and validates a policy from YAML text; `file` names it in errors.
    ///
    /// - Throws: `PolicyError` naming file:line:column and what to write instead; nothing is half-loaded.
    public static func load(yaml: String, file: String) throws(PolicyError) -> Policy {
        var loader = PolicyLoader(file: file)
        // The loader returns nil only after recording why.
        guard let policy = loader.load(yaml), loader.errors.isEmpty else {
            throw loader.errors.count == 1 ? loader.errors[0] : .several(loader.errors)
        }
        return policy
    }

    /// The text of `policies/default.yaml`, compiled into the binary.
    public static var embeddedDefaultText: String { String(decoding: PackageResources.default_yaml, as: UTF8.self) }

    /// The embedded default policy (the same text as `policies/default.yaml`).
    public static var embeddedDefault: Policy {
        do {
            return try load(yaml: embeddedDefaultText, file: embeddedDefaultFile)
        } catch {
            fatalError("the embedded default policy does not load: \(error)")
        }
    }

    /// Every `command` pattern the rules name (basenames, full paths, globs), for kernel-side pre-filtering.
    public var commandPatterns: [String] {
        var seen = Set<String>()
        var out: [String] = []
        func add(_ m: CompiledMatch) {
            for p in m.commandNames + m.commandPaths + m.commandGlobs.map(\.pattern) where seen.insert(p).inserted {
                out.append(p)
            }
            m.pipeline.forEach(add)
            m.parent.forEach(add)
        }
        for r in rules { add(r.match) }
        return out
    }

    /// Whether an exec of the program at `path` could ever be stopped or killed: the kernel side holds only such
    /// execs for a verdict.
    ///
    /// True when a stop or kill rule could match the program (by basename, real path or glob), when such rules
    /// name no command, when the default (or the verdict for unknown or unparsable commands) stops or kills, or
    /// when it is a shell or wrapper and anything stops or kills (its payload may be). An `alert` needs no hold:
    /// a passed exec's record is still judged, and its alert logged, a moment later.
    public func couldActOn(path: String) -> Bool {
        if defaultAction >= .stop { return true }
        let real = Paths.realPath(path) ?? path
        let names = Set([Paths.basename(path), Paths.basename(real)])
        let anyAction = rules.contains { $0.action >= .stop } || unknownCommand >= .stop || unparsable >= .stop
        if anyAction && names.contains(where: { Wrappers.wraps($0) }) { return true }
        if names.contains("mv") && judgesMoves { return true }
        for i in generic where rules[i].action >= .stop {
            let m = rules[i].match
            if !m.hasCommand { return true }
            for g in m.commandGlobs
            where g.pathMode ? (g.matches(path) || g.matches(real)) : names.contains(where: g.matches) {
                return true
            }
        }
        // The index lists the generic rules under every name too: those were tried, by their globs, above.
        for n in names {
            for i in index[n] ?? [] where rules[i].action >= .stop && !generic.contains(i) { return true }
        }
        return false
    }

    /// Judges one exec (or one command given as argv): rules matching it directly, and its unwrapped payload.
    ///
    /// `identify` gives the program names a file is by identity or content (the live guard's); it judges what a
    /// runner loads without an exec (`ld.so /tmp/renamed-rm -rf V`) as the program it is.
    ///
    /// `paths` resolves path operands as the kernel does for the process (the live guard's, over its /proc
    /// entries); without it the text decides.
    public func evaluate(
        _ cmd: ExecContext, identify: ((String) -> [String])? = nil, paths: (any PathResolving)? = nil
    ) -> Verdict {
        var ev = Evaluator(policy: self)
        ev.identify = identify
        ev.resolver = paths
        return verdict(ev.command(cmd, depth: 0))
    }

    /// Judges a shell command line as if `sh -c LINE` ran it: every command in it, its pipelines, its wrappers.
    ///
    /// `cwd` is where it runs (default: `workspace`, else this process's directory); `workspace` expands
    /// `${workspace}`. `paths` resolves path operands (`PathWalker(cwd:)`: as this process sees them); without
    /// it the text decides.
    public func evaluate(
        commandLine: String, cwd: String? = nil, workspace: String? = nil, uid: UInt32? = nil,
        userName: String? = nil, parent: ExecContext? = nil, paths: (any PathResolving)? = nil
    ) -> Verdict {
        evaluate(
            commandLine: commandLine, cwd: cwd, workspace: workspace, uid: uid, userName: userName, parent: parent,
            cache: nil, paths: paths)
    }

    func evaluate(
        commandLine: String, cwd: String?, workspace: String?, uid: UInt32?, userName: String?, parent: ExecContext?,
        cache: ResolveCache?, paths: (any PathResolving)? = nil
    ) -> Verdict {
        let template = ExecContext(
            argv: [], path: "", cwd: cwd ?? workspace ?? Paths.currentDirectory, uid: uid, userName: userName,
            parent: parent, workspace: workspace)
        var ev = Evaluator(policy: self, cache: cache)
        ev.resolver = paths
        return evaluate(commandLine: commandLine, template: template, evaluator: &ev)
    }

    /// Judges a shell command line run with `template`'s directory, user, workspace and parent (its argv and
    /// path are ignored): one template serves every line of a `check --file` run.
    func evaluate(commandLine: String, template: borrowing ExecContext, cache: ResolveCache?) -> Verdict {
        var ev = Evaluator(policy: self, cache: cache)
        return evaluate(commandLine: commandLine, template: template, evaluator: &ev)
    }

    /// The same with an evaluator (of this policy) kept across lines, so the policy is not copied per line.
    func evaluate(commandLine: String, template: borrowing ExecContext, evaluator ev: inout Evaluator) -> Verdict {
        verdict(ev.script(commandLine, template: template, depth: 0))
    }

    func verdict(_ o: Outcome) -> Verdict {
        if let r = o.rule {
            // The rule's fields read in place (copying the whole `Rule` retained every one of its strings).
            return rules.withUnsafeBufferPointer { rs in
                Verdict(
                    action: o.action, rule: rs[r].id, severity: rs[r].severity ?? Policy.defaultSeverity(rs[r].action),
                    matched: o.matched, description: rs[r].description)
            }
        }
        if o.action == .allow { return Verdict(action: .allow) }
        return Verdict(action: o.action, matched: o.matched, description: o.reason)
    }

    /// The severity a rule without `severity:` reports.
    static func defaultSeverity(_ a: Action) -> Severity {
        switch a {
        case .allow: return .info
        case .alert: return .low
        case .stop: return .medium
        case .kill: return .high
        }
    }
}

/// A `match:` object's matching (its fields and why they skip the safety checks: CompiledMatch.swift).
extension CompiledMatch {
    var hasCommand: Bool { !commandNames.isEmpty || !commandPaths.isEmpty || !commandGlobs.isEmpty }

    /// Whether `command:` names the program known by `names` (basenames, identities) at `path` (its real path,
    /// and `filename`, the path as given, when that differs): a name compares with the basenames, a `/` path
    /// with the full paths, a glob by its mode. Exec rules and file rules' `process` both ask this.
    func commandMatches(names: [String], path: String, filename: String?) -> Bool {
        for n in names where commandNames.contains(n) { return true }
        let other = filename.flatMap { $0 == path ? nil : $0 }
        if !commandPaths.isEmpty {
            if commandPaths.contains(path) { return true }
            if let other, commandPaths.contains(other) { return true }
        }
        for g in commandGlobs {
            if g.pathMode {
                if g.matches(path) { return true }
                if let other, g.matches(other) { return true }
            } else {
                for n in names where g.matches(n) { return true }
            }
        }
        return false
    }

    /// Whether the rule can be found through the command-name index alone.
    var indexable: Bool { hasCommand && commandGlobs.isEmpty }

    /// Only `cmdline` and/or `regex`, maybe with `command` naming shells only: such a rule also applies to whole
    /// shell texts, judged as the command line of the shell that runs them.
    var textOnly: Bool {
        (!cmdline.isEmpty || !regexes.isEmpty) && args.isEmpty && flags.isEmpty && !hasPaths && pipeline.isEmpty
            && parent.isEmpty && !hasUser && !hasHosts && commandPaths.isEmpty && commandGlobs.isEmpty
            && commandNames.allSatisfy { Wrappers.shells.contains($0) }
    }

    var isEmpty: Bool {
        !hasCommand && args.isEmpty && flags.isEmpty && cmdline.isEmpty && regexes.isEmpty && !hasPaths
            && pipeline.isEmpty && parent.isEmpty && !hasUser && !hasHosts
    }

    var hasHosts: Bool { !hosts.isEmpty || !hostsOutside.isEmpty }

    /// A precompiled regular expression searched in the command line.
    struct Regex: Sendable {
        let re: SearchRegex
        var pattern: String { re.pattern }
        /// Literals one of which every match contains (from a top-level alternation), or nil when unknown.
        let required: [[UInt8]]?

        init(pattern: String) throws {
            re = try SearchRegex(pattern)
            required = Regex.requiredLiterals(pattern)
        }

        func search(_ s: String) -> Bool {
            if let required {
                var text = s
                let hit = text.withUTF8 { buf in required.contains { Glob.contains(buf, $0) } }
                if !hit { return false }
            }
            return re.search(s)
        }

        /// For `a|b\.c|d(`-style patterns: per top-level alternative, the literal text before its first
        /// metacharacter (escaped punctuation counts as literal). Nil when any alternative has no literal of at
        /// least two bytes, or the pattern has groups, classes or flags that make this unsound.
        static func requiredLiterals(_ pattern: String) -> [[UInt8]]? {
            let b = Array(pattern.utf8)
            var alternatives: [[UInt8]] = []
            var current: [UInt8] = []
            var stopped = false
            var i = 0
            while i < b.count {
                let c = b[i]
                switch c {
                case 0x7C:  // |
                    alternatives.append(current)
                    current = []
                    stopped = false
                    i += 1
                    continue
                case 0x28, 0x29, 0x5B, 0x5D, 0x7B, 0x7D:  // ( ) [ ] { }: give up
                    if !stopped { return nil }
                case 0x5C:  // backslash
                    guard i + 1 < b.count else { return nil }
                    let n = b[i + 1]
                    let isPunct =
                        (n >= 0x21 && n <= 0x2F) || (n >= 0x3A && n <= 0x40) || (n >= 0x5B && n <= 0x60)
                        || (n >= 0x7B && n <= 0x7E)
                    if !stopped && isPunct {
                        current.append(n)
                    } else {
                        stopped = true
                    }
                    i += 2
                    continue
                case 0x2E, 0x2A, 0x2B, 0x3F, 0x5E, 0x24:  // . * + ? ^ $
                    // A quantifier makes the previous byte optional: drop it.
                    if !stopped && (c == 0x2A || c == 0x3F) && !current.isEmpty { current.removeLast() }
                    stopped = true
                default:
                    if !stopped { current.append(c) }
                }
                i += 1
            }
            alternatives.append(current)
            if alternatives.contains(where: { $0.count < 2 }) { return nil }
            return alternatives
        }
    }
}

/// One `paths:` prefix: a literal path or a glob, maybe relative to `${workspace}`.
///
/// A class: rules hold their patterns by reference, so trying one is a retain, not a copy of its strings.
final class PathPattern: Sendable {
    /// Starts with `${workspace}`: the rest is appended to the workspace at evaluation.
    let workspaceRelative: Bool
    /// The (rest of the) path, normalised, `~` expanded.
    let literal: String?
    let glob: Glob?
    let written: String

    /// The literal's bytes when it is ASCII and normal (or empty): `contains(ascii:)` compares these in place.
    let literalBytes: [UInt8]?

    init(workspaceRelative: Bool, literal: String?, glob: Glob?, written: String) {
        self.workspaceRelative = workspaceRelative
        self.literal = literal
        self.glob = glob
        self.written = written
        if let literal, literal.utf8.allSatisfy({ $0 < 0x80 }),
            literal.isEmpty || (literal != "/" && Paths.isNormal(literal))
        {
            literalBytes = Array(literal.utf8)
        } else {
            literalBytes = nil
        }
    }

    /// `contains` for an ASCII normal `path` and an ASCII normal (or absent) `workspace`, both as bytes; nil
    /// when this pattern needs the general test.
    @inline(__always)
    func contains(ascii path: UnsafeBufferPointer<UInt8>, workspace: UnsafeBufferPointer<UInt8>?) -> Bool? {
        guard let lit = literalBytes else { return nil }
        if !workspaceRelative { return lit.isEmpty ? nil : PathPattern.under(path, lit, nil) }
        guard let workspace else { return nil }
        // "/" as the workspace is the empty base.
        let base = workspace.count == 1 ? UnsafeBufferPointer(rebasing: workspace[0..<0]) : workspace
        if lit.isEmpty { return base.isEmpty ? true : PathPattern.under(path, [], base) }
        return PathPattern.under(path, lit, base)
    }

    /// `path` is `base + lit` or below it.
    @inline(__always)
    private static func under(
        _ p: UnsafeBufferPointer<UInt8>, _ lit: [UInt8], _ base: UnsafeBufferPointer<UInt8>?
    ) -> Bool {
        let bn = base?.count ?? 0
        let n = bn + lit.count
        if p.count < n { return false }
        if let base { for k in 0..<bn where p[k] != base[k] { return false } }
        let ok = lit.withUnsafeBufferPointer { l -> Bool in
            for k in 0..<l.count where p[bn + k] != l[k] { return false }
            return true
        }
        return ok && (p.count == n || p[n] == 0x2F)
    }

    /// Whether `path` (absolute, normalised) is at or below this prefix, for `workspace`.
    func contains(_ path: String, workspace: String?) -> Bool? {
        var base = ""
        if workspaceRelative {
            guard let workspace else { return nil }
            base = workspace == "/" ? "" : workspace
        }
        if let literal {
            guard workspaceRelative else { return Paths.isUnder(path, literal) }
            if literal.isEmpty || literal == "/" { return Paths.isUnder(path, Paths.normalize(base)) }
            if !base.isEmpty, Paths.isNormal(base), Paths.isNormal(literal),
                let fast = Paths.isUnder(path, base: base, rest: literal)
            {
                return fast
            }
            return Paths.isUnder(path, Paths.normalize(base + literal))
        }
        guard let glob else { return nil }
        var candidate = path
        if workspaceRelative {
            guard Paths.isUnder(path, workspace.map(Paths.normalize) ?? "/") else { return false }
            candidate = String(path.dropFirst(base.count))
            // The workspace itself: only a pattern that matches the empty rest (`${workspace}**`) holds.
            if candidate.isEmpty { return glob.matches("") }
        }
        // The glob matches the path itself or one of its ancestors.
        // ASCII text: the ancestors are the byte prefixes before each `/` (the same as by `Character`).
        let ascii: Bool? = Paths.withBytes(candidate) { c -> Bool? in
            guard Paths.isASCII(c) else { return nil }
            if glob.matches(bytes: c) { return true }
            var end = c.count
            while end > 0 {
                var k = end - 1
                while k >= 0 && c[k] != 0x2F { k -= 1 }
                if k <= 0 { break }
                end = k
                if glob.matches(bytes: UnsafeBufferPointer(rebasing: c[0..<k])) { return true }
            }
            return false
        }
        if let ascii { return ascii || glob.matches("/") }
        if glob.matches(candidate) { return true }
        var s = Substring(candidate)
        while let slash = s.lastIndex(of: "/"), slash != s.startIndex {
            s = s[..<slash]
            if glob.matches(String(s)) { return true }
        }
        return glob.matches("/")
    }
}

/// The result of evaluating one command or script, before it becomes a `Verdict`.
struct Outcome {
    var action: Action
    var rule: Int?
    var matchedText: String?
    /// The matched command's argv, joined into `matched` only when a verdict is rendered.
    var matchedArgv: [String]?
    var reason: String?

    init(action: Action, rule: Int? = nil, matched: String? = nil, reason: String? = nil) {
        self.action = action
        self.rule = rule
        self.matchedText = matched
        self.reason = reason
    }

    init(action: Action, rule: Int? = nil, argv: [String], reason: String? = nil) {
        self.action = action
        self.rule = rule
        self.matchedArgv = argv
        self.reason = reason
    }

    var matched: String? { matchedText ?? matchedArgv.map(shellJoin) }

    /// Keeps the stronger of two outcomes; on a tie the earlier (outer, first) one, unless only the later one
    /// comes from a rule.
    mutating func merge(_ o: Outcome) {
        if o.action > action || (o.action == action && rule == nil && o.rule != nil) { self = o }
    }
}
