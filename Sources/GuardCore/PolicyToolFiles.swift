/// The file-rule half of `check`, `test` and `lint`: an access judged offline, the `tests:` entries with `file:`,
/// and the file rules' lint warnings.
extension PolicyTool {
    // MARK: - check --file-access

    /// `check --file-access ACCESS PATH [--process CMD]`: judges one access to one file by the file rules.
    ///
    /// `path` may be relative (to `cwd`, else the workspace, else this process's directory) or start with `~`;
    /// `process` is resolved over `PATH` as a command would be. Exit 0 when allowed (no rule, or an allow rule),
    /// 1 when a rule alerts, denies or kills.
    public static func checkFile(
        policy: Policy, access: FileAccess, path: String, process: String?, workspace: String?, cwd: String? = nil,
        format: Format = .text
    ) -> Output {
        let dir = cwd ?? workspace ?? Paths.currentDirectory
        let file = Paths.absolute(Paths.tildeExpanded(path), cwd: dir)
        let identity = process.map { ProcessIdentity(resolving: $0, cwd: dir) }
        let rule = policy.judgeFile(path: file, access: access, process: identity, workspace: workspace ?? dir)
        var out: [UInt8] = []
        renderFile(rule, access: access, file: file, process: process, format: format, into: &out)
        let acted = (rule?.action ?? .allow) != .allow
        return Output(stdout: String(decoding: out, as: UTF8.self), exitCode: acted ? 1 : 0)
    }

    /// What an access is, for a verdict or a failure: `read /root/.ssh/id_rsa by python3`.
    static func fileSubject(access: FileAccess, file: String, process: String?) -> String {
        "\(access.rawValue) \(file)" + (process.map { " by \($0)" } ?? "")
    }

    /// One file verdict as a text line (`deny deletes-outside-scratch (medium): delete /etc/hosts`) or a JSON
    /// object, shaped like a command verdict.
    static func renderFile(
        _ rule: FileRule?, access: FileAccess, file: String, process: String?, format: Format,
        into out: inout [UInt8]
    ) {
        let action = rule?.action ?? .allow
        let severity = rule.map { $0.severity ?? $0.action.defaultSeverity }
        switch format {
        case .text:
            out.append(contentsOf: action.rawValue.utf8)
            if let rule {
                out.append(contentsOf: " \(rule.id)".utf8)
                if action != .allow, let severity { out.append(contentsOf: " (\(severity.rawValue))".utf8) }
            }
            out.append(contentsOf: ": ".utf8)
            appendPrintable(fileSubject(access: access, file: file, process: process), into: &out)
            out.append(0x0A)
        case .json:
            out.append(contentsOf: "{\"line\":1,\"file\":".utf8)
            appendJSONString(file, into: &out)
            out.append(contentsOf: ",\"access\":\"\(access.rawValue)\"".utf8)
            if let process {
                out.append(contentsOf: ",\"process\":".utf8)
                appendJSONString(process, into: &out)
            }
            out.append(contentsOf: ",\"action\":\"\(action.rawValue)\"".utf8)
            if let rule {
                out.append(contentsOf: ",\"rule\":".utf8)
                appendJSONString(rule.id, into: &out)
            }
            if let severity { out.append(contentsOf: ",\"severity\":\"\(severity.rawValue)\"".utf8) }
            if let d = rule?.description {
                out.append(contentsOf: ",\"description\":".utf8)
                appendJSONString(d, into: &out)
            }
            out.append(contentsOf: "}\n".utf8)
        }
    }

    // MARK: - test

    /// The failures of a policy's file tests, each with its place and its `FAIL ...` line.
    ///
    /// A test runs in its `workspace` (default `testWorkspace`); its `process` is resolved over `PATH` (relative
    /// paths against the workspace), as `check --file-access` resolves it.
    static func fileTestFailures(_ policy: Policy) -> [(SourceLocation, String)] {
        var failures: [(SourceLocation, String)] = []
        for t in policy.fileTests {
            let ws = Paths.normalize(t.workspace ?? testWorkspace)
            let identity = t.process.map { ProcessIdentity(resolving: $0, cwd: ws) }
            let rule = policy.judgeFile(path: t.path(workspace: ws), access: t.access, process: identity, workspace: ws)
            let got = rule?.action ?? .allow
            var problem: String?
            if got != t.expect {
                let why = rule.map { "rule '\($0.id)'" } ?? "no file rule matched"
                problem = "expected \(t.expect.rawValue), got \(got.rawValue) (\(why))"
            } else if let r = t.rule, rule?.id != r {
                problem = "expected rule '\(r)', got \(rule.map { "rule '\($0.id)'" } ?? "no rule")"
            }
            if let problem {
                var line: [UInt8] = []
                appendPrintable(fileSubject(access: t.access, file: t.file, process: t.process), into: &line)
                failures.append(
                    (t.location, "FAIL \(t.location): \(String(decoding: line, as: UTF8.self)): \(problem)\n"))
            }
        }
        return failures
    }

    // MARK: - lint

    /// Warnings for a valid policy's file rules: rules an earlier one always decides first, rules whose paths can
    /// never hold.
    static func fileLint(policy: Policy) -> [String] {
        var warnings: [String] = []
        let rules = policy.fileRules
        for (j, b) in rules.enumerated() {
            for a in rules[..<j] where FileLintCheck.subsumes(a, b) {
                warnings.append(
                    "\(b.location): warning: file rule '\(b.id)' can never decide: file rule '\(a.id)' (line \(a.location.line)) comes first and matches every access it matches; move '\(b.id)' above it or narrow '\(a.id)'"
                )
                break
            }
            if let why = FileLintCheck.neverMatches(b) {
                warnings.append("\(b.location): warning: file rule '\(b.id)' can never match: \(why)")
            }
        }
        return warnings
    }
}

/// The static checks behind the file rules' lint warnings: conservative, only provable cases.
enum FileLintCheck {
    /// Whether every access `b` judges is judged by the earlier rule `a` (so `b` never decides).
    static func subsumes(_ a: FileRule, _ b: FileRule) -> Bool {
        guard b.access.isSubset(of: a.access), a.outsidePatterns.isEmpty, !a.underPatterns.isEmpty,
            !b.underPatterns.isEmpty
        else { return false }
        if let ap = a.process {
            // Only literal names compare: `b` must name a subset of the programs `a` names.
            guard let bp = b.process, ap.commandGlobs.isEmpty, bp.commandGlobs.isEmpty,
                Set(bp.commandNames).isSubset(of: Set(ap.commandNames)),
                Set(bp.commandPaths).isSubset(of: Set(ap.commandPaths))
            else { return false }
        }
        return b.underPatterns.allSatisfy { u in a.underPatterns.contains { inside(u, $0) } }
    }

    /// Why a file rule's paths can never hold (or its process never match), if provably so.
    static func neverMatches(_ r: FileRule) -> String? {
        for o in r.outsidePatterns where !o.workspaceRelative && (o.literal == "/" || o.glob?.matches("/") == true) {
            return "outside '\(o.written)' covers every path"
        }
        if let first = r.underPatterns.first,
            r.underPatterns.allSatisfy({ u in r.outsidePatterns.contains { inside(u, $0) } }),
            let o = r.outsidePatterns.first(where: { inside(first, $0) })
        {
            let pair = "under '\(first.written)' lies within outside '\(o.written)'"
            return r.underPatterns.count == 1 ? pair : "every 'under' pattern lies within an 'outside' one (\(pair))"
        }
        for n in r.process?.commandNames ?? [] where n.contains(" ") {
            return "process command '\(n)' contains a space; a program name never does"
        }
        return nil
    }

    /// Whether every path pattern `u` covers is covered by `o` (provable cases: `o` a literal prefix of what
    /// `u` covers, both absolute or both in the workspace; or the same text).
    static func inside(_ u: PathPattern, _ o: PathPattern) -> Bool {
        if u.written == o.written { return true }
        guard u.workspaceRelative == o.workspaceRelative, let outer = o.literal else { return false }
        // Workspace patterns compare under a stand-in workspace: their rests are what differs.
        let base = u.workspaceRelative ? "/w" : ""
        let outerPath = Paths.normalize(base + outer)
        if let inner = u.literal { return Paths.isUnder(Paths.normalize(base + inner), outerPath) }
        guard let g = u.glob else { return false }
        // Every path a glob covers lies below the directory written before its first glob character.
        let text = g.pattern
        guard let meta = text.firstIndex(where: { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }),
            let slash = text[..<meta].lastIndex(of: "/")
        else { return false }
        let dir = String(text[..<slash])
        return Paths.isUnder(Paths.normalize(base + (dir.isEmpty ? "/" : dir)), outerPath)
    }
}
