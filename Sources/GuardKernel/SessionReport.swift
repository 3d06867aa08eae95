import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a session says about itself: its start line, the violations it counts, the summary it prints at the end,
/// and the `--report` (JSON) and `--junit` (XML) files.
extension GuardSession {
    /// The start line on stderr (unless quiet), and the text format's column header.
    func announce(_ what: String) {
        if options.quiet { return }
        let files = policy.fileRules.isEmpty ? "" : ", \(policy.fileRules.count) file rules"
        FileHandleStderr.write(
            "claude-guard: \(what): policy \(policy.name) (\(PolicyLocator.source(of: policy))), "
                + "\(audit ? "audit" : "enforce") mode, workspace \(enforcer.workspace ?? "(none)"), "
                + "\(policy.rules.count) rules\(files)\n")
        if options.format == .text { stdout.write(line: formatter.header) }
    }

    /// Counts a violation in the summary, by what was done.
    func record(_ v: Violation) {
        summary.violations += 1
        summary.perRule[v.rule, default: 0] += 1
        switch v.enforced {
        // A late enforcement (the exec passed in the kernel and was acted on afterwards) counts all the same.
        case "killed", "killed-late", "killed-after": summary.killed += 1
        case "denied": summary.denied += 1
        case "stopped", "stopped-late": summary.stopped += 1
        case "alerted": summary.alerted += 1
        default: break
        }
    }

    /// Ends the session: releases what is still held, removes the request directory, writes the summary (JSON
    /// record, or the text paragraph) and the reports; returns the exit code (3 when a violation fails the run).
    func finish(status: Int32?) -> Int32 {
        let stillStopped = stops.remaining()
        let released = enforcer.releaseAll()
        if released > 0 {
            let what = enforcer.policy.onTimeout == .allow ? "resumed" : "killed"
            notice("\(released) held process(es) \(what) on exit (on_timeout)")
            for pid in stillStopped { resolved(pid, "on_timeout: \(what)") }
        }
        enforcer.removeRequestDir()
        summary.exitStatus = status
        summary.peakRSSKiB = Self.peakRSS()
        summary.held = UInt64(decisionNs.count)
        if !decisionNs.isEmpty {
            let sorted = decisionNs.sorted()
            summary.holdDecisionMedianUs = Double(sorted[sorted.count / 2]) / 1000
            summary.holdDecisionP99Us = Double(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]) / 1000
        }
        summary.durationNs = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)) - startNs
        // The collector gets what came before the summary (bounded: 3 s in all), then the summary.
        let otlpDeadline = BPFGuard.clockNs(CLOCK_MONOTONIC) + 3_000_000_000
        if let otlp {
            flushAll()
            otlp.flush(deadlineNs: otlpDeadline)
            (summary.otlpSent, summary.otlpDropped) = (otlp.stats.sent, otlp.stats.notDelivered)
        }
        let now = guardBPF.wallTime(monotonicNs: UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
        let line = jsonLine { EventJSON.summary(summary, time: now, into: &$0) }
        log(line)
        if let otlp {
            otlp.flush(deadlineNs: otlpDeadline, stop: true)
            OTLPExporter.report(otlp.stats, url: otlp.config.url, quiet: options.quiet)
        }
        if options.format == .json {
            stdout.write(line)
        } else if !options.quiet {
            FileHandleStderr.write(summaryText() + "\n")
        }
        flushAll()
        let unwritten = writeReports()
        for e in unwritten { FileHandleStderr.write("claude-guard: error: \(e)\n") }
        // Everything is said: the probes' detach (seconds of RCU grace periods) is left to a child.
        cg_detach_in_background()
        let all = violations.map(\.1) + fileViolations.map(\.1) + ptraceViolations.map(\.1) + bashViolations.map(\.1)
        if all.contains(where: options.failOn.fails) { return 3 }
        // A CI job must not pass on a report it asked for and did not get, nor on a guard that stopped seeing.
        if !unwritten.isEmpty || guardBPF.pollFailure != nil { return 1 }
        if !all.isEmpty && !options.quiet {
            FileHandleStderr.write("claude-guard: no violation fails the run (--fail-on)\n")
        }
        return status ?? 0
    }

    /// The end-of-run paragraph (text format): counts, then each violation (at most 50 of each kind).
    func summaryText() -> String {
        var s = "claude-guard: \(summary.execs) exec(s), \(summary.violations) violation(s)"
        if summary.bashLines > 0 { s += ", \(summary.bashLines) bash line(s)" }
        if summary.lost > 0 { s += ", \(summary.lost) lost" }
        if summary.untracked > 0 { s += ", \(summary.untracked) fork(s) not tracked (map full)" }
        if summary.unheld > 0 { s += ", \(summary.unheld) hold(s) decided in the kernel (map full)" }
        if !summary.leftovers.isEmpty { s += ", terminated leftover descendant(s) \(summary.leftovers)" }
        for (e, v) in violations.prefix(50) {
            let then = v.outcome.map { ", then " + $0 } ?? ""
            s += "\n  \(v.enforced)\(then) pid \(e.pid) (rule \(v.rule), \(v.severity)): "
            s += TextFormatter.printable(Array(v.matched.utf8))
        }
        if violations.count > 50 { s += "\n  ... and \(violations.count - 50) more" }
        for (f, v) in fileViolations.prefix(50) {
            s += "\n  \(v.enforced) pid \(f.pid) (file rule \(v.rule), \(v.severity)): "
            s += TextFormatter.printable(Array(v.matched.utf8))
        }
        if fileViolations.count > 50 { s += "\n  ... and \(fileViolations.count - 50) more file violations" }
        for (p, v) in ptraceViolations.prefix(50) {
            s += "\n  \(v.enforced) pid \(p.pid) (\(v.rule), \(v.severity)): " + TextFormatter.printable(Array(v.matched.utf8))
        }
        s += bashSummary()
        return s
    }

    /// --report (JSON) and --junit (XML); returns the writes that failed.
    func writeReports() -> [GuardError] {
        let now = guardBPF.wallTime(monotonicNs: UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
        if let file = reportFile {
            var w = JSONWriter()
            w.beginObject()
            w.field("policy", enforcer.policy.name)
            w.field("mode", enforcer.audit ? "audit" : "enforce")
            w.key("summary")
            EventJSON.summary(summary, time: now, into: &w)
            w.beginArray("violations")
            for (e, v) in violations {
                EventJSON.exec(e, violation: v, into: &w)
                Self.addToolUse(toolUseOf[e.pid], to: &w)
            }
            for (f, v) in fileViolations {
                EventJSON.file(f, violation: v, into: &w)
                Self.addToolUse(toolUseOf[f.pid], to: &w)
            }
            for (p, v) in ptraceViolations { EventJSON.ptrace(p, violation: v, into: &w) }
            for (l, v) in bashViolations {
                EventJSON.bash(l, violation: v, into: &w)
                Self.addToolUse(toolUseOf[l.pid], to: &w)
            }
            w.endArray()
            w.endObject()
            w.newline()
            file.write(w.bytes)
            file.flush()
        }
        if let file = junitFile {
            file.write(
                line: JUnit.render(
                    policy: enforcer.policy, violations: violations.map { $0.1 } + fileViolations.map { $0.1 } + ptraceViolations.map { $0.1 }
                        + bashViolations.map { $0.1 },
                    summary: summary))
            file.flush()
        }
        return [reportFile, junitFile].compactMap { $0?.failure }
    }

    /// VmHWM of this process, KiB.
    static func peakRSS() -> UInt64 {
        for line in (ProcFS.read("/proc/self/status") ?? "").split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return UInt64(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
