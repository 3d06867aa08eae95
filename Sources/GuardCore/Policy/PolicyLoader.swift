import Foundation
import Yams

/// Reads a policy's YAML node tree, validates every key and value with its file:line:column, and compiles it.
struct PolicyLoader {
    let file: String
    var errors: [PolicyError] = []

    init(file: String) { self.file = file }

    static let topKeys = ["version", "name", "description", "mode", "default", "settings", "rules", "files", "tests"]
    static let settingsKeys = [
        "hold_timeout_ms", "on_timeout", "unknown_command", "unparsable", "preload", "traced_exec", "ptrace", "tamper",
    ]
    static let ruleKeys = ["id", "description", "match", "action", "severity"]
    static let matchKeys = [
        "command", "args", "flags", "cmdline", "regex", "paths", "pipeline", "parent", "user", "hosts", "hosts_outside",
    ]
    static let pathsKeys = ["under", "outside"]
    static let testKeys = ["command", "expect", "rule", "cwd", "workspace", "user", "description"]

    func loc(_ node: Node) -> SourceLocation {
        let m = node.mark
        return SourceLocation(file: file, line: m?.line ?? 1, column: m?.column ?? 1)
    }

    mutating func load(_ yaml: String) -> Policy? {
        let root: Node?
        do {
            // The basic resolver: every scalar is read as a string here, and tag resolution by regular expression
            // (the default resolver) was most of the load time.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch let e as YamlError {
            errors.append(yamlError(e))
            return nil
        } catch {
            errors.append(.syntax(SourceLocation(file: file, line: 1, column: 1), message: "\(error)"))
            return nil
        }
        guard let root, let top = root.mapping else {
            let l = root.map(loc) ?? SourceLocation(file: file, line: 1, column: 1)
            errors.append(
                .wrongType(
                    l, key: "policy", expected: "a mapping of keys",
                    example: "'version: 1' then 'rules:' on the next lines"))
            return nil
        }
        var policy = Policy(
            name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent, description: nil,
            mode: .enforce, defaultAction: .allow, holdTimeoutMs: 2000, onTimeout: .kill, unknownCommand: .allow,
            unparsable: .alert, rules: [], tests: [], file: file)
        let entries = pairs(top, context: "the policy", allowed: PolicyLoader.topKeys)
        if entries["version"] == nil {
            errors.append(
                .missingKey(loc(root), key: "version", context: "the policy", example: "'version: 1' as the first line")
            )
        }
        if let v = entries["version"] {
            if let s = v.scalar?.string, s != "1" {
                errors.append(.unsupportedVersion(loc(v), found: s))
            } else if v.scalar == nil {
                errors.append(.wrongType(loc(v), key: "version", expected: "a number", example: "version: 1"))
            }
        }
        if let n = entries["name"], let s = string(n, key: "name", example: "name: strict") { policy.name = s }
        if let n = entries["description"], let s = string(n, key: "description", example: "description: what it guards")
        {
            policy.description = s
        }
        if let n = entries["mode"], let s = string(n, key: "mode", example: "mode: enforce") {
            if let m = PolicyMode(rawValue: s) {
                policy.mode = m
            } else {
                errors.append(.unknownMode(loc(n), found: s))
            }
        }
        if let n = entries["default"], let a = action(n, key: "default") { policy.defaultAction = a }
        if let n = entries["settings"] {
            if let m = mapping(n, key: "settings", example: "settings: { hold_timeout_ms: 2000, on_timeout: kill }") {
                let s = pairs(m, context: "settings", allowed: PolicyLoader.settingsKeys)
                if let t = s["hold_timeout_ms"] {
                    if let v = t.scalar.flatMap({ Int($0.string) }), v > 0, v <= 600_000 {
                        policy.holdTimeoutMs = v
                    } else {
                        errors.append(
                            .invalidValue(
                                loc(t), key: "hold_timeout_ms",
                                message:
                                    "write a whole number of milliseconds between 1 and 600000, e.g. hold_timeout_ms: 2000"
                            ))
                    }
                }
                if let t = s["on_timeout"], let a = action(t, key: "on_timeout", allowed: ["kill", "allow"]) {
                    policy.onTimeout = a
                }
                if let t = s["unknown_command"], let a = action(t, key: "unknown_command") { policy.unknownCommand = a }
                if let t = s["unparsable"], let a = action(t, key: "unparsable") { policy.unparsable = a }
                if let t = s["preload"], let a = action(t, key: "preload") { policy.preload = a }
                if let t = s["traced_exec"], let a = action(t, key: "traced_exec") { policy.tracedExec = a }
                if let t = s["ptrace"], let a = action(t, key: "ptrace") { policy.ptrace = a }
                if let t = s["tamper"], let a = action(t, key: "tamper", allowed: ["kill", "alert", "allow"]) {
                    policy.tamper = a
                }
            }
        }
        if let n = entries["rules"] {
            if let seq = sequence(n, key: "rules", example: "rules: followed by '- id: ...' items") {
                if seq.isEmpty { errors.append(.emptyRules(loc(n))) }
                for item in seq { if let rule = loadRule(item) { policy.rules.append(rule) } }
            }
        } else if entries["files"] == nil {
            errors.append(
                .missingKey(
                    loc(root), key: "rules", context: "the policy",
                    example: "rules: [ { id: rm-rf, match: { command: rm, flags: [r, f] }, action: kill } ]"))
        }
        if let n = entries["files"] {
            if let seq = sequence(n, key: "files", example: "files: followed by '- id: ...' items") {
                if seq.isEmpty {
                    errors.append(
                        .invalidValue(
                            loc(n), key: "files",
                            message:
                                "the list is empty; add a file rule such as - { id: no-deletes, paths: { outside: ['${workspace}'] }, access: [delete], action: deny }, or drop 'files:'"
                        ))
                }
                for item in seq { if let rule = loadFileRule(item) { policy.fileRules.append(rule) } }
            }
        }
        duplicateIDs(policy.rules.map { ($0.id, $0.location) } + policy.fileRules.map { ($0.id, $0.location) })
        if let n = entries["tests"],
            let seq = sequence(n, key: "tests", example: "tests: [ { command: ls, expect: allow } ]")
        {
            for item in seq {
                if PolicyLoader.isFileTest(item) {
                    if let t = loadFileTest(item) { policy.fileTests.append(t) }
                } else if let t = loadTest(item) {
                    policy.tests.append(t)
                }
            }
        }
        if errors.isEmpty {
            PolicyLoader.buildIndex(&policy)
            // A test naming a rule that does not exist can never pass.
            let ids = Set(policy.rules.map(\.id))
            for t in policy.tests {
                if let r = t.rule, !ids.contains(r) {
                    errors.append(
                        .invalidValue(
                            t.location, key: "rule",
                            message: "no rule has id '\(r)'; write the id of a rule above, or drop 'rule:'"))
                }
            }
            let fileIDs = Set(policy.fileRules.map(\.id))
            for t in policy.fileTests {
                if let r = t.rule, !fileIDs.contains(r) {
                    errors.append(
                        .invalidValue(
                            t.location, key: "rule",
                            message:
                                "no file rule has id '\(r)'; write the id of a rule under 'files:', or drop 'rule:'"))
                }
            }
        }
        errors.sort {
            ($0.location?.line ?? 0, $0.location?.column ?? 0) < ($1.location?.line ?? 0, $1.location?.column ?? 0)
        }
        return errors.isEmpty ? policy : nil
    }

    static func buildIndex(_ policy: inout Policy) {
        var keyed: [String: [Int]] = [:]
        policy.generic = []
        policy.pipelineRules = []
        policy.scriptRules = []
        for (i, r) in policy.rules.enumerated() {
            let m = r.match
            m.isTextOnly = m.textOnly && !m.hasCommand
            if m.textOnly { policy.scriptRules.append(i) }
            if !m.pipeline.isEmpty {
                policy.pipelineRules.append(i)
                continue
            }
            if m.indexable {
                for n in m.commandNames { keyed[n, default: []].append(i) }
                for p in m.commandPaths { keyed[Paths.basename(p), default: []].append(i) }
            } else {
                policy.generic.append(i)
            }
        }
        policy.index = [:]
        for (k, v) in keyed { policy.index[k] = Array(Set(v + policy.generic)).sorted() }
    }

    /// Reports every id used before (by a rule or a file rule), at the later place: ids are one namespace.
    private mutating func duplicateIDs(_ ids: [(String, SourceLocation)]) {
        var seen: [String: SourceLocation] = [:]
        for (id, l) in ids.sorted(by: { ($0.1.line, $0.1.column) < ($1.1.line, $1.1.column) }) {
            if let first = seen[id] {
                errors.append(.duplicateRuleID(l, id: id, first: first))
            } else {
                seen[id] = l
            }
        }
    }

    private func yamlError(_ e: YamlError) -> PolicyError {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let extra = context.map { " (\($0.text))" } ?? ""
            return .syntax(SourceLocation(file: file, line: mark.line, column: mark.column), message: problem + extra)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return .duplicateKey(
                SourceLocation(file: file, line: context.mark.line, column: context.mark.column),
                key: duplicates.joined(separator: "', '"))
        default:
            return .syntax(SourceLocation(file: file, line: 1, column: 1), message: "\(e)")
        }
    }

    // MARK: - Typed access

    /// The mapping's entries by key, reporting unknown and duplicate keys.
    mutating func pairs(_ m: Node.Mapping, context: String, allowed: [String]) -> [String: Node] {
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.scalar?.string else {
                errors.append(.wrongType(loc(k), key: "key", expected: "a plain word", example: "\(allowed[0]): ..."))
                continue
            }
            if !allowed.contains(key) {
                errors.append(.unknownKey(loc(k), key: key, context: context, allowed: allowed))
                continue
            }
            if out[key] != nil {
                errors.append(.duplicateKey(loc(k), key: key))
                continue
            }
            out[key] = v
        }
        return out
    }

    mutating func string(_ n: Node, key: String, example: String) -> String? {
        if let s = n.scalar { return s.string }
        errors.append(.wrongType(loc(n), key: key, expected: "a single text value", example: example))
        return nil
    }

    mutating func mapping(_ n: Node, key: String, example: String) -> Node.Mapping? {
        if let m = n.mapping { return m }
        errors.append(.wrongType(loc(n), key: key, expected: "a mapping of keys", example: example))
        return nil
    }

    mutating func sequence(_ n: Node, key: String, example: String) -> [Node]? {
        if let s = n.sequence { return Array(s) }
        errors.append(.wrongType(loc(n), key: key, expected: "a list", example: example))
        return nil
    }

    /// A string or a list of strings (with the node of each).
    mutating func strings(_ n: Node, key: String, example: String) -> [(String, Node)]? {
        if let s = n.scalar { return [(s.string, n)] }
        if let seq = n.sequence {
            var out: [(String, Node)] = []
            for item in seq {
                guard let s = item.scalar else {
                    errors.append(
                        .wrongType(loc(item), key: key, expected: "a text value or a list of them", example: example))
                    return nil
                }
                out.append((s.string, item))
            }
            if out.isEmpty {
                errors.append(
                    .invalidValue(
                        loc(n), key: key, message: "the list is empty, so the rule could never match; write \(example)")
                )
                return nil
            }
            return out
        }
        errors.append(.wrongType(loc(n), key: key, expected: "a text value or a list of them", example: example))
        return nil
    }

    mutating func action(_ n: Node, key: String, allowed: [String] = Action.allCases.map(\.rawValue)) -> Action? {
        guard let s = string(n, key: key, example: "\(key): \(allowed[0])") else { return nil }
        if let a = Action(rawValue: s), allowed.contains(s) { return a }
        errors.append(.unknownAction(loc(n), found: s, allowed: allowed))
        return nil
    }

    // MARK: - Rules

    private mutating func loadRule(_ node: Node) -> Policy.Rule? {
        guard
            let m = mapping(
                node, key: "rules item", example: "- id: rm-rf\n    match: { command: rm }\n    action: kill")
        else { return nil }
        let before = errors.count
        let e = pairs(m, context: "a rule", allowed: PolicyLoader.ruleKeys)
        let id = ruleID(e["id"], node: node, context: "a rule", example: "rm-recursive-force")
        var act: Action?
        if let n = e["action"] {
            act = action(n, key: "action")
        } else {
            errors.append(.missingKey(loc(node), key: "action", context: "rule '\(id)'", example: "action: kill"))
        }
        let sev = e["severity"].flatMap { severity($0) }
        var desc: String?
        if let n = e["description"] { desc = string(n, key: "description", example: "description: what it stops") }
        var compiled = CompiledMatch()
        if let n = e["match"] {
            if let mm = mapping(n, key: "match", example: "match: { command: rm, flags: [r, f] }") {
                compiled = loadMatch(mm, node: n, allowPipeline: true)
                if compiled.isEmpty && errors.count == before {
                    errors.append(.emptyMatch(loc(n), rule: id))
                }
            }
        } else {
            errors.append(
                .missingKey(loc(node), key: "match", context: "rule '\(id)'", example: "match: { command: rm }"))
        }
        guard errors.count == before, let act else { return nil }
        compiled.judged(by: act)
        return Policy.Rule(id: id, description: desc, action: act, severity: sev, location: loc(node), match: compiled)
    }

    /// A rule's `id:` (empty when missing or unusable, which is reported).
    mutating func ruleID(_ n: Node?, node: Node, context: String, example: String) -> String {
        guard let n else {
            errors.append(.missingKey(loc(node), key: "id", context: context, example: "id: \(example)"))
            return ""
        }
        guard let s = string(n, key: "id", example: "id: \(example)") else { return "" }
        if s.isEmpty || s.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            errors.append(
                .invalidValue(loc(n), key: "id", message: "write a non-empty id without spaces, e.g. \(example)"))
        }
        return s
    }

    /// A rule's `severity:`.
    mutating func severity(_ n: Node) -> Severity? {
        guard let s = string(n, key: "severity", example: "severity: high") else { return nil }
        if let v = Severity(rawValue: s) { return v }
        errors.append(.unknownSeverity(loc(n), found: s))
        return nil
    }

    mutating func glob(_ s: String, _ n: Node, pathMode: Bool) -> Glob? {
        do {
            return try Glob(s, pathMode: pathMode)
        } catch let error as Glob.SyntaxError {
            errors.append(.badGlob(loc(n), pattern: s, reason: error.description))
            return nil
        } catch {
            errors.append(.badGlob(loc(n), pattern: s, reason: "\(error)"))
            return nil
        }
    }

    private mutating func loadMatch(_ m: Node.Mapping, node: Node, allowPipeline: Bool) -> CompiledMatch {
        let c = CompiledMatch()
        let e = pairs(m, context: "match", allowed: PolicyLoader.matchKeys)
        if let n = e["command"] { commands(n, into: c) }
        if let n = e["args"], let list = strings(n, key: "args", example: "args: ['of=/dev/*']") {
            for (s, item) in list { if let g = glob(s, item, pathMode: false) { c.args.append(g) } }
        }
        if let n = e["flags"], let list = strings(n, key: "flags", example: "flags: [r|R|recursive, f|force]") {
            for (s, item) in list {
                do {
                    c.flags.append(try FlagAlternatives.parse(s))
                } catch {
                    errors.append(.badFlag(loc(item), message: error.message))
                }
            }
        }
        if let n = e["cmdline"], let list = strings(n, key: "cmdline", example: "cmdline: 'git push * --force*'") {
            for (s, item) in list { if let g = glob(s, item, pathMode: false) { c.cmdline.append(g) } }
        }
        if let n = e["regex"], let list = strings(n, key: "regex", example: "regex: '\\bmkfs(\\.\\w+)?\\b'") {
            for (s, item) in list {
                do {
                    c.regexes.append(try CompiledMatch.Regex(pattern: s))
                } catch {
                    errors.append(
                        .badRegex(loc(item), pattern: s, reason: "it does not compile as an ICU regular expression"))
                }
            }
        }
        if let n = e["paths"], let pm = mapping(n, key: "paths", example: "paths: { outside: ['${workspace}'] }") {
            let pe = pairs(pm, context: "paths", allowed: PolicyLoader.pathsKeys)
            if pe.isEmpty {
                errors.append(.invalidValue(loc(n), key: "paths", message: "write under: [...] or outside: [...]"))
            }
            c.hasPaths = true
            if let u = pe["under"], let list = strings(u, key: "under", example: "under: ['${workspace}/build']") {
                c.under = list.compactMap { pathPattern($0.0, $0.1) }
            }
            if let o = pe["outside"], let list = strings(o, key: "outside", example: "outside: ['${workspace}', /tmp]")
            {
                c.outside = list.compactMap { pathPattern($0.0, $0.1) }
            }
        }
        if let n = e["pipeline"] {
            if !allowPipeline {
                errors.append(
                    .invalidValue(
                        loc(n), key: "pipeline",
                        message: "a pipeline stage cannot hold another pipeline; list the stages in one pipeline"))
            } else if let seq = sequence(
                n, key: "pipeline", example: "pipeline: [ { command: curl }, { command: sh } ]")
            {
                if seq.count < 2 {
                    errors.append(
                        .invalidValue(
                            loc(n), key: "pipeline",
                            message: "a pipeline needs two or more stages, e.g. [ { command: curl }, { command: sh } ]")
                    )
                }
                for item in seq {
                    guard let sm = mapping(item, key: "pipeline stage", example: "{ command: [sh, bash] }") else {
                        continue
                    }
                    let stage = loadMatch(sm, node: item, allowPipeline: false)
                    if stage.isEmpty { errors.append(.emptyMatch(loc(item), rule: "pipeline stage")) }
                    c.pipeline.append(stage)
                }
                let others = e.keys.filter { $0 != "pipeline" }.sorted()
                if !others.isEmpty {
                    errors.append(
                        .invalidValue(
                            loc(n), key: "pipeline",
                            message:
                                "'pipeline' cannot be combined with \(others.joined(separator: ", ")) in one match; put those keys inside a stage"
                        ))
                }
            }
        }
        if let n = e["parent"], let pm = mapping(n, key: "parent", example: "parent: { command: node }") {
            let p = loadMatch(pm, node: n, allowPipeline: false)
            if p.isEmpty { errors.append(.emptyMatch(loc(n), rule: "parent")) }
            c.parent = [p]
        }
        if let n = e["user"], let list = strings(n, key: "user", example: "user: [root, 1000]") {
            c.hasUser = true
            for (s, _) in list {
                if let uid = UInt32(s) {
                    c.uids.append(uid)
                } else {
                    c.userNames.append(s)
                    if let uid = Paths.uid(of: s) { c.uids.append(uid) }
                }
            }
        }
        if let n = e["hosts"] { c.hosts = hostGlobs(n, key: "hosts") }
        if let n = e["hosts_outside"] { c.hostsOutside = hostGlobs(n, key: "hosts_outside") }
        return c
    }

    /// `command:` names, paths and globs (a match's, or a file rule's `process`), added to `c`.
    mutating func commands(_ n: Node, into c: CompiledMatch) {
        guard let list = strings(n, key: "command", example: "command: [rm, /usr/bin/rm, 'python*']") else { return }
        for (s, item) in list {
            if s.isEmpty {
                errors.append(.invalidValue(loc(item), key: "command", message: "write a program name such as rm"))
                continue
            }
            let expanded = s.hasPrefix("~/") ? Paths.home + s.dropFirst() : s
            let isPath = expanded.contains("/")
            if isPath && !expanded.hasPrefix("/") && !expanded.hasPrefix("*") {
                errors.append(
                    .invalidValue(
                        loc(item), key: "command",
                        message:
                            "'\(s)' is a relative path; write a basename (rm) or an absolute path (/usr/bin/rm)"))
                continue
            }
            guard let g = glob(expanded, item, pathMode: isPath) else { continue }
            if g.isLiteral {
                if isPath {
                    c.commandPaths.append(Paths.normalize(expanded))
                } else {
                    c.commandNames.append(expanded)
                }
            } else {
                c.commandGlobs.append(g)
            }
        }
    }

    mutating func pathPattern(_ s: String, _ n: Node) -> PathPattern? {
        var rest = s
        var ws = false
        if rest.hasPrefix("${workspace}") {
            ws = true
            rest = String(rest.dropFirst("${workspace}".count))
            if !rest.isEmpty && !rest.hasPrefix("/") {
                errors.append(
                    .invalidValue(
                        loc(n), key: "paths", message: "write a '/' after ${workspace}, e.g. '${workspace}/build'"))
                return nil
            }
        } else if rest == "~" || rest.hasPrefix("~/") {
            rest = Paths.home + rest.dropFirst()
        } else if !rest.hasPrefix("/") {
            errors.append(
                .invalidValue(
                    loc(n), key: "paths",
                    message: "'\(s)' is relative; write an absolute path, '~/...' or '${workspace}/...'"))
            return nil
        }
        if rest.contains("${") {
            errors.append(
                .invalidValue(loc(n), key: "paths", message: "only ${workspace} expands in paths; write the path out"))
            return nil
        }
        let hasMeta = rest.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
        if hasMeta {
            guard let g = glob(rest.isEmpty ? "/" : rest, n, pathMode: true) else { return nil }
            return PathPattern(workspaceRelative: ws, literal: nil, glob: g, written: s)
        }
        return PathPattern(
            workspaceRelative: ws, literal: rest.isEmpty ? "" : Paths.normalize(rest), glob: nil, written: s)
    }

    // MARK: - Tests

    private mutating func loadTest(_ node: Node) -> Policy.PolicyTest? {
        guard let m = mapping(node, key: "tests item", example: "- { command: 'rm -rf /', expect: kill }") else {
            return nil
        }
        let before = errors.count
        let e = pairs(m, context: "a test", allowed: PolicyLoader.testKeys)
        var command: String?
        if let n = e["command"] {
            if let s = n.scalar {
                command = s.string
            } else if let seq = n.sequence {
                var argv: [String] = []
                for item in seq {
                    if let s = item.scalar { argv.append(s.string) }
                }
                command = shellJoin(argv)
            } else {
                errors.append(
                    .wrongType(
                        loc(n), key: "command", expected: "a command line or an argv list", example: "command: rm -rf /"
                    ))
            }
        } else {
            errors.append(.missingKey(loc(node), key: "command", context: "a test", example: "command: rm -rf /"))
        }
        var expect: Action?
        if let n = e["expect"] {
            expect = action(n, key: "expect")
        } else {
            errors.append(.missingKey(loc(node), key: "expect", context: "a test", example: "expect: kill"))
        }
        var t = Policy.PolicyTest(command: command ?? "", expect: expect ?? .allow, location: loc(node))
        if let n = e["rule"] { t.rule = string(n, key: "rule", example: "rule: rm-recursive-force") }
        if let n = e["cwd"] { t.cwd = string(n, key: "cwd", example: "cwd: /home/me/project") }
        if let n = e["workspace"] { t.workspace = string(n, key: "workspace", example: "workspace: /home/me/project") }
        if let n = e["user"] { t.user = string(n, key: "user", example: "user: root") }
        if let n = e["description"] { _ = string(n, key: "description", example: "description: why") }
        return errors.count == before ? t : nil
    }
}
