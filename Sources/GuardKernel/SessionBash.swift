import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

extension GuardSession {
    /// A line an interactive bash of the tree read (held by the kernel in enforce mode): judged and acted on
    /// before the shell runs it, then shown (`BASH | line`) and logged (`bash`), with its violation.
    func handleBash(_ l: BashLineEvent) {
        summary.bashLines += 1
        var violation = enforcer.handleLine(l)
        let now = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
        if l.held {
            holdShadow.held(l.pid, nowNs: l.monotonicNs)
            decisionNs.append(now &- l.monotonicNs)
        }
        // The programs the line runs repeat its violation: linked to it, counted once.
        if let by = carried.admit(pid: l.pid, ppid: l.ppid, violation: violation), by != l.pid {
            violation?.carriedBy = by
        }
        if let v = violation, v.carriedBy == nil {
            record(v)
            bashViolations.append((l, v))
        }
        var say: String? = nil
        if let v = violation, v.enforced.hasPrefix("stopped") {
            say = stops.add(pid: l.pid, command: v.matched, rule: v.rule, nowNs: now)
        }
        defer { if let say { notice(say) } }
        let toolUse = intent?.toolUse(of: l.pid)
        if violation != nil, let id = toolUse { toolUseOf[l.pid] = id }
        let line = logRecord(violation: violation, toolUse: toolUse) { EventJSON.bash(l, violation: violation, into: &$0) }
        if options.format == .json {
            stdout.write(line)
        } else {
            stdout.write(line: formatter.bashLine(l))
            if let v = violation { stdout.write(line: formatter.bashViolationLine(l, v)) }
        }
    }

    /// The summary's lines for violations of typed lines.
    func bashSummary() -> String {
        var s = ""
        for (l, v) in bashViolations.prefix(50) {
            let then = v.outcome.map { ", then " + $0 } ?? ""
            s += "\n  \(v.enforced)\(then) pid \(l.pid) (bash line, rule \(v.rule), \(v.severity)): "
            s += TextFormatter.printable(Array(v.matched.utf8))
        }
        if bashViolations.count > 50 { s += "\n  ... and \(bashViolations.count - 50) more bash line violations" }
        return s
    }
}
