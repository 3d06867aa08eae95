#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `claude-guard import claude-settings FILE...`: Claude Code's `permissions.deny/ask/allow` entries turned into a
/// policy with the same meaning, its own tests included, and a report of what could not be translated.
///
/// Claude Code evaluates deny, then ask, then allow, whatever file an entry comes from; the policy lists every
/// translated deny first, then every ask, then every allow, and its first matching rule decides, so a project's
/// allow never loosens a user's deny (a project can only add denies and asks).
///
/// | Claude Code | policy |
/// | --- | --- |
/// | `Bash(npm run test:*)`, `Bash(git push *)`, `Bash(ls)` | a command rule: `command:` the first word, `cmdline:` the rest (every unwrapped command is judged, so `x; npm run test` and `bash -c` are seen) |
/// | `Bash(rm -rf:*)` in deny/ask (flags only after the command) | `flags: [r, f]`: any order, bundled or not |
/// | `Read(PATTERN)` / `Edit(PATTERN)` | a file rule on `read` / on `write create delete rename truncate chmod` |
/// | `//abs`, `~/p`, `/p`, `./p`, `p/q`, `name` | `/abs`, `~/p`, `${workspace}/p`, `${workspace}/p`, `${workspace}/p/q`, `${workspace}/**/name` |
/// | `WebFetch(domain:HOST)` | a rule on the command `WebFetch` whose URL argument has that host |
/// | `WebSearch`, `mcp__server`, `mcp__server__tool` | a rule whose `command` names the tool |
///
/// deny is `kill` (files: `deny`), ask is `stop` (files have no ask: `alert`), allow is `allow`.
public enum ClaudeSettingsImport {
    /// Which settings file an entry comes from.
    public enum Scope: String, Sendable {
        case user, project, local
    }

    /// The three permission lists, in the order Claude Code applies them.
    public enum List: String, Sendable, CaseIterable {
        case deny, ask, allow

        var action: Action {
            switch self {
            case .deny: return .kill
            case .ask: return .stop
            case .allow: return .allow
            }
        }

        /// 0 for deny, 1 for ask, 2 for allow: the order Claude Code applies them.
        var rank: Int { List.allCases.firstIndex(of: self) ?? 0 }

        var fileAction: FileAction {
            switch self {
            case .deny: return .deny
            case .ask: return .alert
            case .allow: return .allow
            }
        }
    }

    /// One permission entry as written, and where.
    public struct Entry: Sendable, Equatable {
        public var list: List
        public var text: String
        public var scope: Scope
        public var file: String

        public init(list: List, text: String, scope: Scope, file: String) {
            self.list = list
            self.text = text
            self.scope = scope
            self.file = file
        }
    }

    /// The policy text and what the translation could not keep.
    public struct Result: Sendable {
        public var yaml: String
        public var rules = 0
        public var fileRules = 0
        public var tests = 0
        /// One line per entry not translated, saying why.
        public var untranslated: [String] = []
        /// One line per entry translated with a different reach than in Claude Code, saying how.
        public var notes: [String] = []
    }

    /// The scope of a settings file: the user's (`~/.claude/settings.json`), a project's local one
    /// (`settings.local.json`), or a project's.
    public static func scope(of path: String, home: String) -> Scope {
        let p = Paths.normalize(Paths.absolute(path, cwd: Paths.currentDirectory))
        if p == Paths.normalize(home) + "/.claude/settings.json" { return .user }
        return p.hasSuffix(".local.json") ? .local : .project
    }

    /// The permission entries of one settings document, and notes about what in it is not an entry.
    public static func entries(of doc: JSONValue, file: String, scope: Scope) -> ([Entry], [String]) {
        guard case .object = doc else { return ([], ["\(file): the settings file is not a JSON object"]) }
        guard let perms = doc["permissions"] else { return ([], ["\(file): no permissions section"]) }
        guard case .object = perms else { return ([], ["\(file): permissions is \(perms.kindName), not an object"]) }
        var out: [Entry] = []
        var notes: [String] = []
        for list in List.allCases {
            guard let v = perms[list.rawValue] else { continue }
            guard let items = v.array else {
                notes.append("\(file): permissions.\(list.rawValue) is \(v.kindName), not a list")
                continue
            }
            for item in items {
                guard let s = item.string else {
                    notes.append("\(file): permissions.\(list.rawValue) holds \(item.kindName), not a rule string")
                    continue
                }
                out.append(Entry(list: list, text: s.trimmingSpaces, scope: scope, file: file))
            }
        }
        return (out, notes)
    }

    /// Reads settings files, translates their entries, and checks the policy with its own tests.
    ///
    /// Exit 0 when everything was translated and every generated test passes, 1 when some entry was not
    /// translated (the policy holds the rest), 2 when a file cannot be read or nothing can be translated.
    public static func run(paths: [String], home: String) -> PolicyTool.Output {
        var all: [Entry] = []
        var notes: [String] = []
        for path in paths {
            guard let bytes = readFile(path) else {
                return PolicyTool.Output(
                    stderr:
                        "claude-guard import: cannot read \(path); give Claude Code settings files such as ~/.claude/settings.json and .claude/settings.json\n",
                    exitCode: 2)
            }
            guard let doc = JSONValue.parseDocument(bytes) else {
                return PolicyTool.Output(
                    stderr:
                        "claude-guard import: \(path) is not valid JSON; fix it (Claude Code would not read it either)\n",
                    exitCode: 2)
            }
            let (e, n) = entries(of: doc, file: path, scope: scope(of: path, home: home))
            all += e
            notes += n
        }
        var r = translate(all, files: paths)
        r.untranslated = notes + r.untranslated
        var out = PolicyTool.Output()
        let report =
            r.untranslated.map { "claude-guard import: not translated: \($0)\n" }.joined()
            + r.notes.map { "claude-guard import: note: \($0)\n" }.joined()
        guard r.rules + r.fileRules > 0 else {
            out.stderr =
                report
                + "claude-guard import: nothing to translate: no Bash, Read, Edit or tool entries in permissions\n"
            out.exitCode = 2
            return out
        }
        out.stdout = r.yaml
        let policy: Policy
        do {
            policy = try Policy.load(yaml: r.yaml, file: "<imported policy>")
        } catch {
            out.stderr =
                report
                + "claude-guard import: the generated policy does not load (a bug; please report it):\n\(error)\n"
            out.exitCode = 2
            return out
        }
        let (text, failed) = PolicyTool.test(policy: policy)
        out.stderr = report + (failed > 0 ? text : "")
        out.stderr +=
            "claude-guard import: \(r.rules) rule(s), \(r.fileRules) file rule(s), \(r.tests) test(s) (\(r.tests - failed) pass), \(r.untranslated.count) entr\(r.untranslated.count == 1 ? "y" : "ies") not translated\n"
        out.exitCode = failed > 0 || !r.untranslated.isEmpty ? 1 : 0
        return out
    }

    // MARK: - Translation

    /// A rule or file rule in YAML, with the tests that check it.
    struct Piece {
        var id: String
        var yaml: String
        var isFile: Bool
        var tests: [String]
    }

    /// Translates entries (any order; deny, ask and allow are regrouped) into policy YAML.
    public static func translate(_ entries: [Entry], files: [String]) -> Result {
        var untranslated: [String] = []
        var notes: [String] = []
        var seen = Set<String>()
        var ids = Set<String>()
        var pieces: [Piece] = []
        let unique = entries.filter { seen.insert($0.list.rawValue + "\u{0}" + $0.text).inserted }
        let ordered = List.allCases.flatMap { l in unique.filter { $0.list == l } }
        for e in ordered {
            guard let (tool, spec) = parseRule(e.text) else {
                untranslated.append("\(e.text) (\(e.file)): not a rule of the form Tool or Tool(specifier)")
                continue
            }
            let id = uniqueID(e.list.rawValue + "-" + slug(e.text), &ids)
            let desc = "Claude Code \(e.list.rawValue): \(e.text) (\(e.scope.rawValue) settings)"
            switch (tool, spec) {
            case ("Bash", let s?):
                pieces.append(bashRule(id: id, desc: desc, spec: s, entry: e, all: ordered))
                if operators.contains(where: { s.contains($0) }) {
                    notes.append(
                        "\(e.text) (\(e.file)): spans several commands, so it is matched against whole shell texts (the hook's, and what shells run with -c), not single execs"
                    )
                }
            case ("Read", let s?), ("Edit", let s?):
                pieces.append(fileRule(id: id, desc: desc, tool: tool, spec: s, entry: e, all: ordered))
                if s.hasPrefix("/") && !s.hasPrefix("//"),
                    let top = s.dropFirst().split(separator: "/").first,
                    ["etc", "usr", "var", "bin", "sbin", "opt", "root", "home", "tmp", "dev", "boot", "lib", "srv"]
                        .contains(String(top))
                {
                    notes.append(
                        "\(e.text) (\(e.file)): in Claude Code /\(top)/... is relative to the project (as imported: ${workspace}/\(top)/...); for the system's /\(top) write \(tool)(//\(s.dropFirst()))"
                    )
                }
                if e.list == .ask {
                    notes.append(
                        "\(e.text) (\(e.file)): file rules cannot ask; imported as alert (the hook logs it, the kernel records it; Claude Code's own ask still applies)"
                    )
                }
            case ("WebFetch", let s?) where s.hasPrefix("domain:"):
                pieces.append(webFetchRule(id: id, desc: desc, host: String(s.dropFirst(7)), entry: e))
            case ("Bash", nil), ("Read", nil), ("Edit", nil):
                untranslated.append(
                    "\(e.text) (\(e.file)): a whole-tool \(tool) rule is left to Claude Code (in the kernel it would \(e.list == .deny ? "stop the agent itself" : "allow everything"))"
                )
            case ("Write", _), ("MultiEdit", _), ("NotebookEdit", _), ("Grep", _), ("Glob", _), ("LS", _):
                untranslated.append(
                    "\(e.text) (\(e.file)): Claude Code applies path rules through Edit and Read only, so this entry has no effect there; write Edit(...) or Read(...)"
                )
            case (let t, nil):
                let cmd = t.hasPrefix("mcp__") && t.components("__") == 2 ? t + "__*" : t
                pieces.append(toolRule(id: id, desc: desc, command: cmd, entry: e))
            case (_, let s?):
                untranslated.append("\(e.text) (\(e.file)): no policy key expresses \(tool)'s specifier '\(s)'")
            }
        }
        var r = Result(yaml: yaml(pieces, entries: unique, files: files))
        r.rules = pieces.filter { !$0.isFile }.count
        r.fileRules = pieces.filter(\.isFile).count
        r.tests = pieces.reduce(0) { $0 + $1.tests.count }
        r.untranslated = untranslated
        r.notes = notes
        return r
    }

    /// `Tool` or `Tool(specifier)`; nil when malformed.
    static func parseRule(_ text: String) -> (String, String?)? {
        guard let open = text.firstIndex(of: "(") else {
            return text.isEmpty || text.contains(")") || text.contains(" ") ? nil : (text, nil)
        }
        guard text.hasSuffix(")"), open > text.startIndex else { return nil }
        let tool = String(text[..<open])
        let spec = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        if tool.contains(" ") { return nil }
        return (tool, spec.isEmpty ? nil : spec)
    }

    // MARK: Bash

    /// The shell operators that make a specifier span several commands (`curl * | bash`).
    static let operators = ["|", "&", ";", "<", ">", "`", "$(", "\n"]

    /// A Bash specifier as whole-string globs, as Claude Code matches it: `P:*` is P or `P …`; a single trailing
    /// ` *` is optional; `*` matches anything, spaces included.
    static func bashGlobs(_ spec: String) -> [String] {
        if spec.hasSuffix(":*") {
            let p = escapeGlob(String(spec.dropLast(2)))
            return [p, p + " *"]
        }
        let parts = spec.split(separator: "*", omittingEmptySubsequences: false).map { escapeGlob(String($0)) }
        let g = parts.joined(separator: "*")
        if spec.hasSuffix(" *") && parts.count == 2 { return [String(g.dropLast(2)), g] }
        return [g]
    }

    static func bashRule(id: String, desc: String, spec: String, entry e: Entry, all: [Entry]) -> Piece {
        let globs = bashGlobs(spec)
        let legacy = spec.hasSuffix(":*")
        let body = legacy ? String(spec.dropLast(2)) : spec
        let trailingStar = !legacy && body.hasSuffix(" *") && body.filter { $0 == "*" }.count == 1
        let prefixLike = legacy || trailingStar
        let words = (trailingStar ? String(body.dropLast(2)) : body).split(separator: " ").map(String.init)
        let first = words.first ?? ""
        let spansCommands = operators.contains { spec.contains($0) }
        let literalFirst = !first.isEmpty && !first.contains("*") && !spansCommands
        let rest = prefixLike ? Array(words.dropFirst()) : []
        var match: [String] = []
        if literalFirst { match.append("command: \(quote(first))") }
        if literalFirst && e.list != .allow && !rest.isEmpty
            && rest.allSatisfy({
                $0.count > 1 && $0.hasPrefix("-") && $0 != "--" && !$0.contains("=") && !$0.contains("*")
            })
        {
            // Flags match in any order and spelling; a deny is then as strong as Claude Code's or stronger.
            let flags = rest.flatMap { w in
                w.hasPrefix("--") ? [String(w.dropFirst(2))] : w.dropFirst().map { String($0) }
            }
            match.append("flags: [\(flags.map(quote).joined(separator: ", "))]")
        } else if !(literalFirst && words.count == 1 && prefixLike) {
            // The first word may also be written as a path (/usr/bin/git push).
            let withPaths = globs + (literalFirst ? globs.map { "*/" + $0 } : [])
            match.append("cmdline: [\(withPaths.map(quote).joined(separator: ", "))]")
        }
        var y = "  - id: \(id)\n    description: \(quote(desc))\n    match:\n"
        for m in match { y += "      \(m)\n" }
        y += "    action: \(e.list.action.rawValue)\n"
        if e.list != .allow { y += "    severity: \(e.list == .deny ? "high" : "medium")\n" }
        // A sample command the entry matches, and what Claude Code would decide for it given every entry.
        let sample = prefixLike ? words.joined(separator: " ") + " x" : spec.replacingStars(with: "x")
        let decider = List.allCases.first { l in all.contains { $0.list == l && bashMatches($0, sample) } } ?? e.list
        var test = "  - { command: \(quote(sample)), expect: \(decider.action.rawValue)"
        if all.first(where: { $0.list == decider && bashMatches($0, sample) }) == e { test += ", rule: \(id)" }
        return Piece(id: id, yaml: y, isFile: false, tests: spansCommands ? [] : [test + " }"])
    }

    /// Whether a Bash entry matches a whole command string as Claude Code matches it.
    static func bashMatches(_ e: Entry, _ command: String) -> Bool {
        // A whole-tool `Bash` entry is left to Claude Code: it decides nothing in the policy.
        guard let (tool, spec) = parseRule(e.text), tool == "Bash", let spec else { return false }
        return bashGlobs(spec).contains { (try? Glob($0))?.matches(command) == true }
    }

    // MARK: Files

    /// A Read/Edit gitignore-style pattern as a policy path pattern.
    static func pathPattern(_ p: String) -> String {
        var s = p
        while s.count > 1 && s.hasSuffix("/") { s.removeLast() }
        if s.hasPrefix("//") { return String(s.dropFirst()) }
        if s.hasPrefix("~/") || s == "~" { return s }
        if s.hasPrefix("/") { return "${workspace}" + s }
        if s.hasPrefix("./") { return "${workspace}/" + s.dropFirst(2) }
        return s.contains("/") ? "${workspace}/" + s : "${workspace}/**/" + s
    }

    static func fileRule(id: String, desc: String, tool: String, spec: String, entry e: Entry, all: [Entry]) -> Piece {
        let pattern = pathPattern(spec)
        let access = tool == "Read" ? "[read]" : "[write, create, delete, rename, truncate, chmod]"
        var y = "  - id: \(id)\n    description: \(quote(desc))\n"
        y += "    paths: { under: [\(quote(pattern))] }\n    access: \(access)\n"
        y += "    action: \(e.list.fileAction.rawValue)\n"
        if e.list == .deny { y += "    severity: high\n" }
        // Another entry for the same tool and pattern in a stronger list decides first.
        let stronger = all.first {
            $0.list.rank < e.list.rank && parseRule($0.text).map { $0.0 == tool && $0.1 == spec } == true
        }
        let sample = pattern.replacingStars(with: "x")
        let expect = (stronger?.list ?? e.list).fileAction.rawValue
        var test = "  - { file: \(quote(sample)), access: \(tool == "Read" ? "read" : "write"), expect: \(expect)"
        if stronger == nil { test += ", rule: \(id)" }
        return Piece(id: id, yaml: y, isFile: true, tests: [test + " }"])
    }

    // MARK: Other tools

    static func webFetchRule(id: String, desc: String, host: String, entry e: Entry) -> Piece {
        let h = escapeGlob(host)
        var globs: [String] = []
        for scheme in ["http", "https"] {
            for tail in ["", " *", "/*", ":*"] { globs.append("* \(scheme)://\(h)\(tail)") }
        }
        var y = "  - id: \(id)\n    description: \(quote(desc))\n    match:\n      command: WebFetch\n"
        y += "      cmdline: [\(globs.map(quote).joined(separator: ", "))]\n"
        y += "    action: \(e.list.action.rawValue)\n"
        let sample = "WebFetch https://\(host.replacingStars(with: "x"))/ \"read it\""
        return Piece(
            id: id, yaml: y, isFile: false,
            tests: ["  - { command: \(quote(sample)), expect: \(e.list.action.rawValue), rule: \(id) }"])
    }

    static func toolRule(id: String, desc: String, command: String, entry e: Entry) -> Piece {
        let y =
            "  - id: \(id)\n    description: \(quote(desc))\n    match: { command: \(quote(command)) }\n    action: \(e.list.action.rawValue)\n"
        return Piece(id: id, yaml: y, isFile: false, tests: [])
    }

    // MARK: - Text

    static func yaml(_ pieces: [Piece], entries: [Entry], files: [String]) -> String {
        var y = "# Imported from Claude Code settings by `claude-guard import claude-settings`:\n"
        for f in files { y += "#   \(f)\n" }
        y += """
            # Claude Code's deny -> kill (files: deny), ask -> stop (files: alert), allow -> allow. Every deny comes
            # first, then every ask, then every allow, as Claude Code applies them: a project's allow never loosens
            # a user's deny. Check it with `claude-guard test FILE`; the hook finds it at .claude/claude-guard.yaml.
            version: 1
            name: claude-settings
            description: Claude Code permission rules (\(entries.count) entries) as a claude-guard policy.
            mode: enforce
            default: allow

            """
        let rules = pieces.filter { !$0.isFile }
        let fileRules = pieces.filter(\.isFile)
        if !rules.isEmpty { y += "rules:\n" + rules.map(\.yaml).joined() + "\n" }
        if !fileRules.isEmpty { y += "files:\n" + fileRules.map(\.yaml).joined() + "\n" }
        let tests = pieces.flatMap(\.tests)
        if !tests.isEmpty { y += "tests:\n" + tests.joined(separator: "\n") + "\n" }
        return y
    }

    /// A YAML double-quoted scalar (JSON's escapes are YAML's).
    static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendQuoted(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Claude Code's literal characters that are special in a policy glob, escaped.
    static func escapeGlob(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "?" || c == "[" || c == "]" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// A rule id made of the entry's letters and digits.
    static func slug(_ text: String) -> String {
        var out = ""
        for c in text.lowercased() {
            if c.isASCII && (c.isLetter || c.isNumber) {
                out.append(c)
            } else if !out.hasSuffix("-") {
                out.append("-")
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return String(out.prefix(40))
    }

    static func uniqueID(_ base: String, _ ids: inout Set<String>) -> String {
        var id = base
        var n = 2
        while !ids.insert(id).inserted {
            id = "\(base)-\(n)"
            n += 1
        }
        return id
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > 16 << 20 { return nil }
        }
    }
}

extension String {
    /// Leading and trailing spaces and tabs removed.
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }

    /// Every run of `*` replaced by `with`.
    fileprivate func replacingStars(with x: String) -> String {
        var out = ""
        var star = false
        for c in self {
            if c == "*" {
                if !star { out += x }
                star = true
            } else {
                out.append(c)
                star = false
            }
        }
        return out
    }

    /// How many parts `separator` splits the string into.
    fileprivate func components(_ separator: String) -> Int {
        split(separator: separator, omittingEmptySubsequences: false).count
    }
}
