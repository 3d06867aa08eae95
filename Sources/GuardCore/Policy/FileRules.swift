import Yams

/// What a process does to a file, as file rules name it (`access:`).
public enum FileAccess: String, Sendable, CaseIterable, Codable {
    /// Opening it for reading (a directory: listing it).
    case read
    /// Opening an existing file for writing, without truncating it.
    case write
    /// Making a new file, directory, link or node.
    case create
    /// Unlinking a file or removing a directory.
    case delete
    /// Renaming or moving it (source or target of a rename).
    case rename
    /// Cutting it short: `truncate`, or an open with `O_TRUNC` (`> file`).
    case truncate
    /// Changing its mode or owner.
    case chmod
}

/// What a file rule does about an access, weakest first: `allow < alert < deny < kill`.
public enum FileAction: String, Sendable, Comparable, CaseIterable, Codable {
    /// Let it happen (an exception carved out of the rules after it).
    case allow
    /// Let it happen and record a violation.
    case alert
    /// Refuse it: the call fails and the file keeps its bytes and its name.
    case deny
    /// Refuse it and kill the process.
    case kill

    public static func < (lhs: FileAction, rhs: FileAction) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// The severity a file rule without `severity:` reports.
    public var defaultSeverity: Severity {
        switch self {
        case .allow: return .info
        case .alert: return .low
        case .deny: return .medium
        case .kill: return .high
        }
    }
}

/// One `files:` rule: which accesses to which paths, by which programs, get which action.
///
/// Its paths hold for a file X when some `under` pattern covers X (none given: always) and no `outside` pattern
/// does; a pattern covers X when it matches X itself or a directory above X (`~/.ssh/*` covers `~/.ssh/id_rsa`
/// and `~/.ssh/a/b`, not `~/.ssh`; `${workspace}` covers the workspace and all below it).
public struct FileRule: Sendable {
    public var id: String
    public var description: String?
    public var action: FileAction
    public var severity: Severity?
    /// The accesses it judges (never empty).
    public var access: Set<FileAccess>
    public var location: SourceLocation
    /// `process.command` as written (nil: any process).
    public var processCommands: [String]?

    let underPatterns: [PathPattern]
    let outsidePatterns: [PathPattern]
    /// The compiled `process.command`, compared with a program as command rules compare `command:`.
    let process: CompiledMatch?

    /// The rule's `under` patterns with `~` and `${workspace}` expanded: absolute glob texts, e.g.
    /// "/root/.ssh/id_*".
    ///
    /// Empty when the rule has no `under` (its paths then hold wherever `outside` does). With `workspace` nil the
    /// `${workspace}` patterns are left out: they cover nothing. Glob characters of a literal path or of the
    /// workspace are escaped with `\`.
    public func under(workspace: String?) -> [String] {
        underPatterns.compactMap { FileRule.text($0, workspace: workspace) }
    }

    /// The rule's `outside` patterns, expanded like `under(workspace:)`.
    public func outside(workspace: String?) -> [String] {
        outsidePatterns.compactMap { FileRule.text($0, workspace: workspace) }
    }

    /// Whether the rule's paths hold for `path` (absolute, normalised) and `workspace` (normalised, or nil).
    func holds(for path: String, workspace: String?) -> Bool {
        if !underPatterns.isEmpty && !underPatterns.contains(where: { $0.contains(path, workspace: workspace) == true })
        {
            return false
        }
        return !outsidePatterns.contains { $0.contains(path, workspace: workspace) == true }
    }

    /// One pattern as an absolute glob text, or nil for a `${workspace}` pattern without a workspace.
    static func text(_ p: PathPattern, workspace: String?) -> String? {
        var base = ""
        if p.workspaceRelative {
            guard let workspace else { return nil }
            let ws = Paths.normalize(workspace)
            base = ws == "/" ? "" : ws
        }
        if let literal = p.literal {
            let joined = base + literal
            return escaped(joined.isEmpty ? "/" : Paths.normalize(joined))
        }
        guard let g = p.glob else { return nil }
        return escaped(base) + g.pattern
    }

    /// `s` with the glob characters `*`, `?`, `[` and `\` escaped, so that it matches only itself.
    static func escaped(_ s: String) -> String {
        guard s.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }) else { return s }
        var out = ""
        for c in s {
            if c == "*" || c == "?" || c == "[" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

/// The program doing a file access, as a file rule's `process` compares it: its basenames and full paths.
struct ProcessIdentity {
    var names: [String]
    var path: String
    var filename: String?

    /// The program at `path` (a full path) or called `path` (a bare name), as reported: not resolved further.
    init(reported path: String) {
        names = [Paths.basename(path)]
        self.path = path
        filename = nil
    }

    /// A program named as on a command line: looked up over `PATH` (relative paths against `cwd`) and its
    /// symlinks followed, as `check` resolves a command; the name as written stays one of its names.
    init(resolving program: String, cwd: String?) {
        let r = Paths.resolve(program, cwd: cwd)
        names = r.names
        let given = Paths.basename(program)
        if !names.contains(given) { names.append(given) }
        path = r.real
        filename = r.located
    }
}

extension Policy {
    /// One `tests:` entry for the file rules: an access to a file by a program and the action expected.
    public struct FileTest: Sendable {
        /// The file as written: an absolute path, `~/...` or `${workspace}/...`.
        public var file: String
        public var access: FileAccess
        /// The program doing it (a name or a path; nil: an unknown process).
        public var process: String?
        public var expect: FileAction
        public var workspace: String?
        public var rule: String?
        public var location: SourceLocation

        /// The file as an absolute, normalised path, `~` and `${workspace}` expanded.
        public func path(workspace: String) -> String {
            if file.hasPrefix("${workspace}") { return Paths.normalize(workspace + file.dropFirst(12)) }
            return Paths.normalize(Paths.tildeExpanded(file))
        }
    }

    /// The first file rule that decides `access` to the absolute path `path` by a process running the program at
    /// `processPath` (a real path or a bare name; nil = unknown process), or nil (allowed).
    ///
    /// A rule decides when its `access` lists the access, its paths hold for `path` (normalised lexically), and
    /// its `process` (if any) names the program, compared as command rules compare `command:` (a name with the
    /// basename, a `/` path with the full path). An unknown process is named by no `process`. `workspace` expands
    /// `${workspace}`; without one, `${workspace}` patterns cover nothing.
    public func judgeFile(path: String, access: FileAccess, processPath: String?, workspace: String?) -> FileRule? {
        judgeFile(
            path: path, access: access, process: processPath.map(ProcessIdentity.init(reported:)),
            workspace: workspace)
    }

    /// `judgeFile` for a program known by several names and paths.
    func judgeFile(path: String, access: FileAccess, process: ProcessIdentity?, workspace: String?) -> FileRule? {
        if fileRules.isEmpty { return nil }
        let p = Paths.normalize(path)
        let ws = workspace.map(Paths.normalize)
        for r in fileRules where r.access.contains(access) && r.holds(for: p, workspace: ws) {
            if let m = r.process {
                guard let process,
                    m.commandMatches(names: process.names, path: process.path, filename: process.filename)
                else { continue }
            }
            return r
        }
        return nil
    }
}

// MARK: - Loading

extension PolicyLoader {
    static let fileRuleKeys = ["id", "description", "paths", "access", "process", "action", "severity"]
    static let processKeys = ["command"]
    static let fileTestKeys = ["file", "access", "process", "expect", "workspace", "rule", "description"]

    /// Whether a `tests:` item tests the file rules: it has `file:` (or `access:` without `command:`).
    static func isFileTest(_ node: Node) -> Bool {
        guard let m = node.mapping else { return false }
        let keys = Set(m.compactMap { $0.key.scalar?.string })
        return keys.contains("file") || (keys.contains("access") && !keys.contains("command"))
    }

    /// One `files:` item, or nil with its errors reported.
    mutating func loadFileRule(_ node: Node) -> FileRule? {
        guard
            let m = mapping(
                node, key: "files item",
                example:
                    "- id: no-deletes\n    paths: { outside: ['${workspace}'] }\n    access: [delete]\n    action: deny"
            )
        else { return nil }
        let before = errors.count
        let e = pairs(m, context: "a file rule", allowed: PolicyLoader.fileRuleKeys)
        let id = ruleID(e["id"], node: node, context: "a file rule", example: "read-secrets")
        var desc: String?
        if let n = e["description"] { desc = string(n, key: "description", example: "description: what it protects") }
        let sev = e["severity"].flatMap { severity($0) }
        var act: FileAction?
        if let n = e["action"] {
            act = fileAction(n, key: "action")
        } else {
            errors.append(.missingKey(loc(node), key: "action", context: "file rule '\(id)'", example: "action: deny"))
        }
        var access = Set<FileAccess>()
        if let n = e["access"] {
            access = accessList(n)
        } else {
            errors.append(
                .missingKey(
                    loc(node), key: "access", context: "file rule '\(id)'",
                    example: "access: [delete, rename, truncate] (or read, write, create, chmod)"))
        }
        var under: [PathPattern] = []
        var outside: [PathPattern] = []
        if let n = e["paths"] {
            if let pm = mapping(n, key: "paths", example: "paths: { under: ['~/.ssh/*'], outside: ['${workspace}'] }") {
                let pe = pairs(pm, context: "paths", allowed: PolicyLoader.pathsKeys)
                if pm.count == 0 {
                    errors.append(
                        .invalidValue(
                            loc(n), key: "paths",
                            message: "write under: [...] and/or outside: [...], e.g. paths: { under: ['~/.ssh/*'] }"))
                }
                if let u = pe["under"], let list = strings(u, key: "under", example: "under: ['~/.ssh/*', '/etc/*']") {
                    under = list.compactMap { pathPattern($0.0, $0.1) }
                }
                if let o = pe["outside"],
                    let list = strings(o, key: "outside", example: "outside: ['${workspace}', '/tmp/*']")
                {
                    outside = list.compactMap { pathPattern($0.0, $0.1) }
                }
            }
        } else {
            errors.append(
                .missingKey(
                    loc(node), key: "paths", context: "file rule '\(id)'",
                    example: "paths: { under: ['~/.ssh/*'] } or paths: { outside: ['${workspace}'] }"))
        }
        var process: CompiledMatch?
        var written: [String]?
        if let n = e["process"], let pm = mapping(n, key: "process", example: "process: { command: [ssh, git] }") {
            let pe = pairs(pm, context: "a file rule's process", allowed: PolicyLoader.processKeys)
            if let c = pe["command"] {
                let compiled = CompiledMatch()
                commands(c, into: compiled)
                process = compiled
                written = c.scalar.map { [$0.string] } ?? c.sequence?.compactMap { $0.scalar?.string }
            } else if pm.count == 0 {
                errors.append(
                    .missingKey(
                        loc(n), key: "command", context: "a file rule's process",
                        example: "process: { command: [ssh, git] }"))
            }
        }
        guard errors.count == before, let act else { return nil }
        return FileRule(
            id: id, description: desc, action: act, severity: sev, access: access, location: loc(node),
            processCommands: written, underPatterns: under, outsidePatterns: outside, process: process)
    }

    /// A file rule's `action:` or a file test's `expect:`: allow, alert, deny or kill.
    private mutating func fileAction(_ n: Node, key: String) -> FileAction? {
        guard let s = string(n, key: key, example: "\(key): deny") else { return nil }
        if let a = FileAction(rawValue: s) { return a }
        errors.append(.unknownAction(loc(n), found: s, allowed: FileAction.allCases.map(\.rawValue)))
        return nil
    }

    /// One access name (`read`), reported with the names allowed when unknown.
    private mutating func fileAccess(_ s: String, _ n: Node) -> FileAccess? {
        if let a = FileAccess(rawValue: s) { return a }
        let all = FileAccess.allCases.map(\.rawValue)
        let hint = PolicyError.closest(s, in: all).map { " (did you mean '\($0)'?)" } ?? ""
        errors.append(
            .invalidValue(
                loc(n), key: "access",
                message: "unknown access '\(s)'\(hint); write one of: \(all.joined(separator: ", "))"
            ))
        return nil
    }

    /// A file rule's `access:` list (or single name).
    private mutating func accessList(_ n: Node) -> Set<FileAccess> {
        guard let list = strings(n, key: "access", example: "access: [delete, rename, truncate]") else { return [] }
        var out = Set<FileAccess>()
        for (s, item) in list { if let a = fileAccess(s, item) { out.insert(a) } }
        return out
    }

    /// One `tests:` item for the file rules, or nil with its errors reported.
    mutating func loadFileTest(_ node: Node) -> Policy.FileTest? {
        guard let m = node.mapping else { return nil }
        let before = errors.count
        let e = pairs(m, context: "a file test", allowed: PolicyLoader.fileTestKeys + ["command"])
        if let n = e["command"] {
            errors.append(
                .invalidValue(
                    loc(n), key: "command",
                    message:
                        "a test checks either a command ('command:') or a file access ('file:'), not both; split it into two tests"
                ))
        }
        var file: String?
        if let n = e["file"], let s = string(n, key: "file", example: "file: ~/.ssh/id_rsa") {
            let isWorkspace = s == "${workspace}" || s.hasPrefix("${workspace}/")
            if s.hasPrefix("/") || s == "~" || s.hasPrefix("~/") || isWorkspace {
                file = s
            } else {
                errors.append(
                    .invalidValue(
                        loc(n), key: "file",
                        message: "'\(s)' is relative; write an absolute path, '~/...' or '${workspace}/...'"))
            }
        } else if e["file"] == nil {
            errors.append(.missingKey(loc(node), key: "file", context: "a file test", example: "file: ~/.ssh/id_rsa"))
        }
        var access: FileAccess?
        if let n = e["access"] {
            if let s = string(n, key: "access", example: "access: read") { access = fileAccess(s, n) }
        } else {
            errors.append(.missingKey(loc(node), key: "access", context: "a file test", example: "access: read"))
        }
        var expect: FileAction?
        if let n = e["expect"] {
            expect = fileAction(n, key: "expect")
        } else {
            errors.append(.missingKey(loc(node), key: "expect", context: "a file test", example: "expect: deny"))
        }
        var process: String?
        if let n = e["process"], let s = string(n, key: "process", example: "process: python3") {
            if s.isEmpty {
                errors.append(
                    .invalidValue(loc(n), key: "process", message: "write a program name or path, e.g. process: ssh"))
            }
            process = s
        }
        var workspace: String?
        if let n = e["workspace"], let s = string(n, key: "workspace", example: "workspace: /home/me/project") {
            if s.hasPrefix("/") {
                workspace = s
            } else {
                errors.append(
                    .invalidValue(
                        loc(n), key: "workspace", message: "write an absolute directory, e.g. /home/me/project"))
            }
        }
        var rule: String?
        if let n = e["rule"] { rule = string(n, key: "rule", example: "rule: read-secrets") }
        if let n = e["description"] { _ = string(n, key: "description", example: "description: why") }
        guard errors.count == before, let file, let access, let expect else { return nil }
        return Policy.FileTest(
            file: file, access: access, process: process, expect: expect, workspace: workspace, rule: rule,
            location: loc(node))
    }
}
