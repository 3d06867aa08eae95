#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `claude-guard hook` answers for one tool call.
public struct HookDecision: Sendable, Equatable {
    /// Claude Code's `permissionDecision`.
    public enum Permission: String, Sendable {
        case allow, deny, ask
    }

    /// What Claude Code is told; nil gives no decision, so its own permission rules apply.
    public var permission: Permission?
    /// `permissionDecisionReason` (the model reads it on deny, the user on ask), or the alert's text.
    public var reason: String?
    /// The policy's action as written: `kill`, `stop`, `alert`, `allow` for commands; `kill`, `deny`, `alert`,
    /// `allow` for files; `none` when nothing decided.
    public var action: String
    /// The rule that decided, if one did.
    public var rule: String?
    /// The part of the call that matched: the unwrapped command, or `read /path`.
    public var matched: String?
    /// The call is passed but recorded as a violation (an `alert`, or anything in audit mode).
    public var alert: Bool

    public init(
        permission: Permission? = nil, reason: String? = nil, action: String = "none", rule: String? = nil,
        matched: String? = nil, alert: Bool = false
    ) {
        self.permission = permission
        self.reason = reason
        self.action = action
        self.rule = rule
        self.matched = matched
        self.alert = alert
    }

    /// No decision: Claude Code's own rules apply.
    public static let pass = HookDecision()
}

/// Judges Claude Code tool calls with one policy: the Bash tool's shell text with the command rules (through the
/// evaluator `check` uses), file tools' paths with the file rules, other tools with rules whose `command` names
/// the tool.
///
/// Only an explicit allow answers `allow`: every command of the text must be allowed by a rule (so a text whose
/// commands only fall through to `default: allow` gets no decision, and Claude Code still asks where it would).
public struct HookJudge: Sendable {
    public var policy: Policy
    /// `${workspace}`; nil: the call's `cwd`.
    public var workspace: String?
    /// The user the tools run as (for `user:` rules).
    public var uid: UInt32
    /// The program that performs file tools' reads and writes (Claude Code itself), for file rules' `process`.
    public var processPath: String?
    /// Files the agent may not change without the user's approval: the policy in use and the settings files that
    /// install the hook. A write to one of them is at least `ask`.
    public var protectedFiles: [String]

    public init(
        policy: Policy, workspace: String? = nil, uid: UInt32 = getuid(), processPath: String? = nil,
        protectedFiles: [String] = []
    ) {
        self.policy = policy
        self.workspace = workspace
        self.uid = uid
        self.processPath = processPath
        self.protectedFiles = protectedFiles.map(Paths.normalize)
    }

    /// Tools whose `file_path` (or `notebook_path`) they write.
    public static let writeTools: [String: String] = [
        "Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path", "NotebookEdit": "notebook_path",
    ]
    /// Tools whose path argument they read, and whether it may be omitted (then the `cwd` is read).
    public static let readTools: [String: (key: String, optional: Bool)] = [
        "Read": ("file_path", false), "NotebookRead": ("notebook_path", false), "Grep": ("path", true),
        "Glob": ("path", true), "LS": ("path", false),
    ]

    /// Judges one call.
    ///
    /// - Throws: `HookError` when the call lacks what its tool needs (`Bash` without `command` ...) or the
    ///   event is not `PreToolUse`.
    public func judge(_ input: HookInput) throws(HookError) -> HookDecision {
        guard input.event == "PreToolUse" else { throw .wrongEvent(input.event) }
        let cwd = Paths.normalize(input.cwd.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? Paths.currentDirectory)
        let ws = workspace ?? cwd
        let decision: HookDecision
        if input.toolName == "Bash" {
            decision = judgeCommand(try input.requiredArgument("command"), cwd: cwd, workspace: ws)
        } else if let key = HookJudge.writeTools[input.toolName] {
            let path = absolute(try input.requiredArgument(key), cwd: cwd)
            let exists = access(path, F_OK) == 0
            let accesses: [FileAccess] = exists ? [.write, .truncate] : [.create, .write]
            decision = strongest(
                judgeFile(path, accesses, workspace: ws), selfProtection(path, tool: input.toolName))
        } else if let (key, optional) = HookJudge.readTools[input.toolName] {
            let given = optional ? try input.argument(key) : try input.requiredArgument(key)
            let path = absolute(given ?? cwd, cwd: cwd)
            var d = judgeFile(path, [.read], workspace: ws)
            if input.toolName == "Grep", d.permission == nil || d.permission == .allow {
                d = strongest(d, searchReach(path, workspace: ws))
            }
            decision = d
        } else {
            decision = judgeNamedTool(input, cwd: cwd, workspace: ws)
        }
        return policy.mode == .audit ? audited(decision) : decision
    }

    // MARK: - Bash

    /// A shell text judged as `check` judges a line: every command, pipeline, wrapper and substitution in it.
    func judgeCommand(_ text: String, cwd: String, workspace: String) -> HookDecision {
        let v = policy.evaluate(commandLine: text, cwd: cwd, workspace: workspace, uid: uid)
        switch v.action {
        case .kill: return commandDecision(.deny, v, text: text)
        case .stop: return commandDecision(.ask, v, text: text)
        case .alert: return commandDecision(nil, v, text: text)
        case .allow:
            guard v.rule != nil, explicitlyAllowed(text, cwd: cwd, workspace: workspace) else { return .pass }
            return HookDecision(
                permission: .allow, reason: "claude-guard: allowed by rule '\(v.rule ?? "")' of policy \(policy.name)",
                action: "allow", rule: v.rule, matched: v.matched)
        }
    }

    /// Whether every command of the text is allowed by a rule, not by the default: the text judged again with
    /// every fall-through (default, unknown command, unparsable text) made an alert must still be allowed.
    func explicitlyAllowed(_ text: String, cwd: String, workspace: String) -> Bool {
        var strict = policy
        strict.defaultAction = max(strict.defaultAction, .alert)
        strict.unknownCommand = max(strict.unknownCommand, .alert)
        strict.unparsable = max(strict.unparsable, .alert)
        return strict.evaluate(commandLine: text, cwd: cwd, workspace: workspace, uid: uid).action == .allow
    }

    private func commandDecision(_ p: HookDecision.Permission?, _ v: Verdict, text: String) -> HookDecision {
        let matched = v.matched ?? text
        var what = "`\(HookJudge.clip(matched))`"
        if matched != text { what += " (in `\(HookJudge.clip(text))`)" }
        let why: String
        if let rule = v.rule {
            let sev = v.severity.map { ", \($0.rawValue)" } ?? ""
            why = "rule '\(rule)' (\(v.description ?? "no description")\(sev)) of policy \(policy.name)"
        } else {
            why = "policy \(policy.name) (\(v.description ?? "its default"))"
        }
        let reason: String
        switch p {
        case .deny?:
            reason =
                "claude-guard: \(why) denies \(what). It will not run: do not retry it in another form; if it is needed, tell the user why and let them run it."
        case .ask?:
            reason = "claude-guard: \(why) wants a human to approve \(what)."
        default:
            reason = "claude-guard: alert from \(why): \(what)"
        }
        return HookDecision(
            permission: p, reason: reason, action: v.action.rawValue, rule: v.rule, matched: matched,
            alert: p == nil)
    }

    // MARK: - Files

    /// The strongest file rule among the accesses to the path as given and as resolved (symlinks seen through,
    /// as the kernel judges it). `allow` only when every access is allowed by a rule.
    func judgeFile(_ path: String, _ accesses: [FileAccess], workspace: String) -> HookDecision {
        var paths = [path]
        if let real = HookJudge.resolved(path), real != path { paths.append(real) }
        var worst: (rule: FileRule, path: String, access: FileAccess)?
        var allAllowed = true
        for p in paths {
            for a in accesses {
                guard let r = policy.judgeFile(path: p, access: a, processPath: processPath, workspace: workspace)
                else {
                    allAllowed = false
                    continue
                }
                if r.action != .allow { allAllowed = false }
                if worst == nil || r.action > (worst?.rule.action ?? .allow) { worst = (r, p, a) }
            }
        }
        guard let (r, p, a) = worst else { return .pass }
        let what = "\(a.rawValue) \(p)"
        let sev = (r.severity ?? r.action.defaultSeverity).rawValue
        let why = "file rule '\(r.id)' (\(r.description ?? "no description"), \(sev)) of policy \(policy.name)"
        switch r.action {
        case .kill, .deny:
            return HookDecision(
                permission: .deny,
                reason:
                    "claude-guard: \(why) denies \(what). Do not try to reach this file another way; if it is needed, tell the user why.",
                action: r.action.rawValue, rule: r.id, matched: what)
        case .alert:
            return HookDecision(
                reason: "claude-guard: alert from \(why): \(what)", action: "alert", rule: r.id, matched: what,
                alert: true)
        case .allow:
            guard allAllowed else { return .pass }
            return HookDecision(
                permission: .allow, reason: "claude-guard: allowed by file rule '\(r.id)' of policy \(policy.name)",
                action: "allow", rule: r.id, matched: what)
        }
    }

    /// A Grep over a directory reads the files below it: when a read of one of them would be denied, ask.
    ///
    /// Each deny/kill read rule's patterns are probed with a sample path below the directory (the pattern's
    /// wildcards filled in), judged by the policy like any read, so earlier allow rules and `process` still count.
    func searchReach(_ dir: String, workspace: String) -> HookDecision {
        var isDir = stat()
        guard stat(dir, &isDir) == 0, isDir.st_mode & S_IFMT == S_IFDIR else { return .pass }
        let base = dir == "/" ? "" : dir
        for r in policy.fileRules where r.access.contains(.read) && r.action >= .deny {
            for pattern in r.under(workspace: workspace) {
                guard let sample = HookJudge.sample(pattern, below: base) else { continue }
                guard
                    let hit = policy.judgeFile(
                        path: sample, access: .read, processPath: processPath, workspace: workspace),
                    hit.action >= .deny
                else { continue }
                return HookDecision(
                    permission: .ask,
                    reason:
                        "claude-guard: this search under \(dir) may read files that file rule '\(hit.id)' (\(hit.description ?? "no description")) of policy \(policy.name) protects, such as \(pattern); narrow the path, or approve it.",
                    action: "stop", rule: hit.id, matched: "read \(dir)")
            }
        }
        return .pass
    }

    /// A path the glob `pattern` covers that lies strictly below `base`, with wildcards filled in, or nil.
    static func sample(_ pattern: String, below base: String) -> String? {
        var out = ""
        var wild = false
        var it = pattern.makeIterator()
        while let c = it.next() {
            switch c {
            case "*", "?", "[":
                if c == "[" { while let d = it.next(), d != "]" {} }
                if !wild { out.append("x") }
                wild = true
                continue
            case "\\": if let d = it.next() { out.append(d) }
            default: out.append(c)
            }
            wild = false
        }
        return out.hasPrefix(base + "/") && out.count > base.count + 1 ? out : nil
    }

    /// Writes to the hook's own configuration need the user, whatever the policy says (unless it denies).
    func selfProtection(_ path: String, tool: String) -> HookDecision {
        let real = HookJudge.resolved(path) ?? path
        guard protectedFiles.contains(path) || protectedFiles.contains(real) else { return .pass }
        return HookDecision(
            permission: .ask,
            reason:
                "claude-guard: \(path) configures the claude-guard hook or its policy; a change by \(tool) needs the user's approval.",
            action: "stop", rule: "claude-guard-config", matched: "write \(path)")
    }

    // MARK: - Other tools

    /// A tool the hook has no reading for (`WebFetch`, `mcp__...`): judged as a command named after the tool, its
    /// string arguments as argv; only a rule whose `command` names the tool decides.
    func judgeNamedTool(_ input: HookInput, cwd: String, workspace: String) -> HookDecision {
        let tool = input.toolName
        let named = policy.rules.filter { $0.match.commandMatches(names: [tool], path: tool, filename: nil) }
        guard !named.isEmpty else { return .pass }
        var argv = [tool]
        for m in input.toolInput.members ?? [] {
            switch m.value {
            case .string(let s): argv.append(s)
            case .number(let n): argv.append(n)
            case .bool(let b): argv.append(b ? "true" : "false")
            default: continue
            }
        }
        let ctx = ExecContext(argv: argv, path: tool, filename: tool, cwd: cwd, uid: uid, workspace: workspace)
        let v = policy.evaluate(ctx)
        guard let id = v.rule, named.contains(where: { $0.id == id }) else { return .pass }
        let text = shellJoin(argv)
        switch v.action {
        case .kill: return commandDecision(.deny, v, text: text)
        case .stop: return commandDecision(.ask, v, text: text)
        case .alert: return commandDecision(nil, v, text: text)
        case .allow:
            return HookDecision(
                permission: .allow, reason: "claude-guard: allowed by rule '\(id)' of policy \(policy.name)",
                action: "allow", rule: id, matched: text)
        }
    }

    // MARK: - Helpers

    /// Audit mode decides nothing: what would have been denied or asked is passed as an alert.
    func audited(_ d: HookDecision) -> HookDecision {
        guard let p = d.permission, p != .allow else { return d }
        var out = d
        out.permission = nil
        out.alert = true
        out.reason = "claude-guard (audit mode) would \(p.rawValue): " + (d.reason ?? "")
        return out
    }

    /// The stronger of two decisions: deny > ask > alert > allow > none; `allow` only when both allow.
    func strongest(_ a: HookDecision, _ b: HookDecision) -> HookDecision {
        func rank(_ d: HookDecision) -> Int {
            switch d.permission {
            case .deny?: return 4
            case .ask?: return 3
            case .allow?: return 1
            case nil: return d.alert ? 2 : 0
            }
        }
        if a.permission == .allow && b == .pass { return .pass }
        if b.permission == .allow && a == .pass { return .pass }
        return rank(b) > rank(a) ? b : a
    }

    /// `~` expanded, made absolute against `cwd`, normalised.
    func absolute(_ path: String, cwd: String) -> String {
        Paths.normalize(Paths.absolute(Paths.tildeExpanded(path), cwd: cwd))
    }

    /// The real path of `path`, or of its directory plus its name when it does not exist yet.
    static func resolved(_ path: String) -> String? {
        if let r = Paths.realPath(path) { return r }
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        guard let dir = Paths.realPath(String(path[..<slash])) else { return nil }
        return (dir == "/" ? "" : dir) + path[slash...]
    }

    /// A command or path cut to 300 characters for a reason line.
    static func clip(_ s: String) -> String {
        s.count <= 300 ? s : String(s.prefix(300)) + "…"
    }
}
