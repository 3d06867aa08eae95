/// The commands an evaluation judged, in order, with their unwrapping depth (`check --explain`).
final class ExplainTrace {
    var commands: [(ctx: ExecContext, depth: Int)] = []
}

/// `check --explain` and `test --explain`: for each command after unwrapping, every rule tried and the first key
/// that did not match, or that it matched — the one-minute answer to "why did this match?" (and "why not?").
public enum Explain {
    /// The match keys in the order they are explained.
    enum Key: String, CaseIterable {
        case command, args, flags, cmdline, regex, paths, user, hosts, hosts_outside, parent
    }

    /// The explanation of one command given as argv (as `check -- CMD` judges it), and its verdict.
    public static func command(_ ctx: ExecContext, policy: Policy) -> (text: String, verdict: Verdict) {
        let trace = ExplainTrace()
        var ev = Evaluator(policy: policy)
        ev.trace = trace
        ev.resolver = PathWalker(cwd: ctx.cwd)
        let verdict = policy.verdict(ev.command(ctx, depth: 0))
        return (render(trace, policy: policy, verdict: verdict), verdict)
    }

    /// The explanation of a shell command line (as `check --file` and `test` judge it), and its verdict.
    public static func line(
        _ line: String, policy: Policy, cwd: String?, workspace: String?, uid: UInt32? = nil, userName: String? = nil
    ) -> (text: String, verdict: Verdict) {
        let template = ExecContext(
            argv: [], path: "", cwd: cwd ?? workspace ?? Paths.currentDirectory, uid: uid, userName: userName,
            workspace: workspace)
        let trace = ExplainTrace()
        var ev = Evaluator(policy: policy)
        ev.trace = trace
        ev.resolver = PathWalker(cwd: template.cwd)
        let verdict = policy.verdict(ev.script(line, template: template, depth: 0))
        return (render(trace, policy: policy, verdict: verdict), verdict)
    }

    static func render(_ trace: ExplainTrace, policy: Policy, verdict: Verdict) -> String {
        var out = ""
        for (ctx, depth) in trace.commands {
            let pad = String(repeating: "  ", count: depth)
            var head = pad + shellJoin(ctx.argv)
            if let cwd = ctx.cwd { head += "   (in \(ctx.cwdUnknown ? "an unknown directory" : cwd))" }
            out += head + "\n"
            var facts = Evaluator.Facts(ctx)
            var ev = Evaluator(policy: policy)
            ev.resolver = PathWalker(cwd: ctx.cwd)
            let others = policy.rules.filter {
                $0.match.pipeline.isEmpty && $0.match.hasCommand && !ev.matches(only($0.match, .command), ctx, &facts)
            }.count
            var decided = false
            for rule in policy.rules {
                let m = rule.match
                if !m.pipeline.isEmpty { continue }
                let name = pad + "  " + rule.id + ": "
                if m.hasCommand && !ev.matches(only(m, .command), ctx, &facts) { continue }
                if let miss = firstMiss(m, ctx, &facts, &ev) {
                    out += name + "no: " + miss + "\n"
                } else {
                    out += name + "MATCHES: \(rule.action.rawValue)" + (m.isTextOnly ? " (text rule)" : "") + "\n"
                    decided = true
                    break
                }
            }
            if others > 0 {
                out += pad + "  (\(others) rule\(others == 1 ? "" : "s") for other programs not tried)\n"
            }
            if !decided { out += pad + "  no rule matched: default \(policy.defaultAction.rawValue)\n" }
        }
        let pipelines = policy.rules.filter { !$0.match.pipeline.isEmpty }
        if !pipelines.isEmpty {
            let ids = pipelines.map(\.id)
            let hit = verdict.rule.map { ids.contains($0) } ?? false
            out += "pipeline rules (\(ids.joined(separator: ", "))): "
            out += hit ? "\(verdict.rule ?? "") MATCHES the text's pipelines\n" : "no pipeline of the text matches\n"
        }
        out += "verdict: \(verdict.action.rawValue)"
        if let r = verdict.rule { out += " by rule \(r)" } else if let d = verdict.description { out += " (\(d))" }
        if let m = verdict.matched { out += " for `\(m)`" }
        out += " (the strongest action over the commands above)\n"
        return out
    }

    /// The first key of `m` that does not hold for the command, described; nil when every key holds.
    static func firstMiss(
        _ m: CompiledMatch, _ ctx: borrowing ExecContext, _ facts: inout Evaluator.Facts, _ ev: inout Evaluator
    ) -> String? {
        for key in Key.allCases where key != .command && has(m, key) {
            if !ev.matches(only(m, key), ctx, &facts) { return describe(m, key) }
        }
        return nil
    }

    static func has(_ m: CompiledMatch, _ key: Key) -> Bool {
        switch key {
        case .command: return m.hasCommand
        case .args: return !m.args.isEmpty
        case .flags: return !m.flags.isEmpty
        case .cmdline: return !m.cmdline.isEmpty
        case .regex: return !m.regexes.isEmpty
        case .paths: return m.hasPaths
        case .user: return m.hasUser
        case .hosts: return !m.hosts.isEmpty
        case .hosts_outside: return !m.hostsOutside.isEmpty
        case .parent: return !m.parent.isEmpty
        }
    }

    /// `m` with one key only (and what that key's reading depends on: the rule's action).
    static func only(_ m: CompiledMatch, _ key: Key) -> CompiledMatch {
        let c = CompiledMatch()
        c.everyPath = m.everyPath
        c.abbreviatedFlags = m.abbreviatedFlags
        c.argsNamePaths = m.argsNamePaths
        switch key {
        case .command:
            c.commandNames = m.commandNames
            c.commandPaths = m.commandPaths
            c.commandGlobs = m.commandGlobs
        case .args: c.args = m.args
        case .flags: c.flags = m.flags
        case .cmdline: c.cmdline = m.cmdline
        case .regex: c.regexes = m.regexes
        case .paths:
            c.hasPaths = true
            c.under = m.under
            c.outside = m.outside
        case .user:
            c.hasUser = true
            c.uids = m.uids
            c.userNames = m.userNames
        case .hosts: c.hosts = m.hosts
        case .hosts_outside: c.hostsOutside = m.hostsOutside
        case .parent: c.parent = m.parent
        }
        return c
    }

    static func describe(_ m: CompiledMatch, _ key: Key) -> String {
        func list(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
        let none = m.everyPath ? "not every" : "no"
        switch key {
        case .command: return "command is not " + list(m.commandNames + m.commandPaths + m.commandGlobs.map(\.pattern))
        case .args: return "args \(list(m.args.map(\.pattern))): not every pattern matches an argument"
        case .flags:
            let alts = m.flags.map { f in (f.shorts.map { String(UnicodeScalar($0)) } + f.longs).joined(separator: "|")
            }
            return "flags \(list(alts)): not all present"
        case .cmdline: return "cmdline \(list(m.cmdline.map(\.pattern))) does not match the command line"
        case .regex: return "regex \(list(m.regexes.map(\.pattern))) not found in the command line"
        case .paths:
            var parts: [String] = []
            if !m.under.isEmpty { parts.append("under \(list(m.under.map(\.written)))") }
            if !m.outside.isEmpty { parts.append("outside \(list(m.outside.map(\.written)))") }
            return "paths: \(none) path operand lies " + parts.joined(separator: " and ")
        case .user: return "user is not " + list(m.userNames + m.uids.map(String.init))
        case .hosts: return "hosts: \(none) host the command names is one of \(list(m.hosts.map(\.pattern)))"
        case .hosts_outside:
            return "hosts_outside: \(none) host the command names lies outside \(list(m.hostsOutside.map(\.pattern)))"
        case .parent: return "parent does not match"
        }
    }
}
