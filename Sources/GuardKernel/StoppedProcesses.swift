import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// The processes a `stop` verdict left stopped, and what becomes of each: a y/N question on the terminal (`-p`
/// with a terminal), `claude-guard resume|kill PID`, or — with no terminal to ask (`run ... </dev/null`, CI) —
/// the policy's `on_timeout` after `hold_timeout_ms`, so nothing waits forever.
final class StoppedProcesses {
    /// What became of one stopped process.
    struct Resolution {
        var pid: Int32
        /// `resumed`, `killed`, `on_timeout: resumed`, `on_timeout: killed` (Violation.outcome).
        var outcome: String
        /// The line said on stderr (and as a `!!` row).
        var message: String
    }

    private let enforcer: Enforcer
    private let prompt: Bool
    private let noTerminal: Bool
    /// Stopped processes in the order they stopped, with when and for what.
    private var waiting: [(pid: Int32, command: String, rule: String, sinceNs: UInt64)] = []
    /// When the question about the first one was put, if it was.
    private var askedNs: UInt64?

    init(enforcer: Enforcer, prompt: Bool, noTerminal: Bool) {
        self.enforcer = enforcer
        self.prompt = prompt
        self.noTerminal = noTerminal
    }

    private var timeoutNs: UInt64 { UInt64(max(0, enforcer.policy.holdTimeoutMs)) * 1_000_000 }
    private var timeoutOutcome: String { enforcer.policy.onTimeout == .allow ? "resumed" : "killed" }

    /// A process was left stopped; returns what to say about it now (nil when a question will be put).
    func add(pid: Int32, command: String, rule: String, nowNs: UInt64) -> String? {
        waiting.append((pid, command, rule, nowNs))
        if prompt { return nil }
        if noTerminal {
            let secs = Double(enforcer.policy.holdTimeoutMs) / 1000
            return "pid \(pid) is stopped (rule \(rule)) and there is no terminal to ask: it gets on_timeout "
                + "(\(timeoutOutcome)) in \(secs) s unless `sudo claude-guard resume|kill \(pid)` comes first"
        }
        return "pid \(pid) is stopped (rule \(rule)): `sudo claude-guard resume \(pid)` lets it run, "
            + "`sudo claude-guard kill \(pid)` ends it; it gets on_timeout when the guard exits"
    }

    /// Requests, answers and timeouts since the last call.
    func tick(nowNs: UInt64) -> [Resolution] {
        var out: [Resolution] = []
        for (pid, what) in enforcer.serveRequests() {
            out.append(Resolution(pid: pid, outcome: what, message: "pid \(pid) \(what) on request"))
        }
        waiting.removeAll { enforcer.stopped[$0.pid] == nil }
        if prompt {
            if let r = serveQuestion(nowNs: nowNs) { out.append(r) }
        } else if noTerminal {
            for w in waiting where nowNs &- w.sinceNs > timeoutNs {
                enforcer.decideStopped(w.pid, allow: enforcer.policy.onTimeout == .allow)
                out.append(
                    Resolution(
                        pid: w.pid, outcome: "on_timeout: \(timeoutOutcome)",
                        message:
                            "pid \(w.pid) stopped with no terminal to ask: \(timeoutOutcome) after "
                            + "\(enforcer.policy.holdTimeoutMs) ms (on_timeout)"))
            }
            waiting.removeAll { enforcer.stopped[$0.pid] == nil }
        }
        return out
    }

    /// One y/N question at a time, on a line of its own on stderr, answered on stdin; no answer within
    /// hold_timeout_ms is a timeout (on_timeout), reported as one.
    private func serveQuestion(nowNs: UInt64) -> Resolution? {
        guard let head = waiting.first else {
            askedNs = nil
            return nil
        }
        guard let asked = askedNs else {
            askedNs = nowNs
            let secs = Double(enforcer.policy.holdTimeoutMs) / 1000
            // A whole line: event rows printed while it waits start on lines of their own.
            FileHandleStderr.write(
                "claude-guard: pid \(head.pid) is stopped (rule \(head.rule)): `\(head.command)`. Let it run? [y/N] "
                    + "(within \(secs) s; no answer: on_timeout, \(timeoutOutcome))\n")
            return nil
        }
        var resolution: Resolution?
        var pfd = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        if poll(&pfd, 1, 0) > 0 {
            var buf = [UInt8](repeating: 0, count: 256)
            let n = read(STDIN_FILENO, &buf, buf.count)
            let allow = n > 0 && String(decoding: buf[0..<n], as: UTF8.self).lowercased().hasPrefix("y")
            enforcer.decideStopped(head.pid, allow: allow)
            let what = allow ? "resumed" : "killed"
            resolution = Resolution(pid: head.pid, outcome: what, message: "pid \(head.pid) \(what) by the operator")
        } else if nowNs &- asked > timeoutNs {
            enforcer.decideStopped(head.pid, allow: enforcer.policy.onTimeout == .allow)
            resolution = Resolution(
                pid: head.pid, outcome: "on_timeout: \(timeoutOutcome)",
                message:
                    "pid \(head.pid): no answer within \(enforcer.policy.holdTimeoutMs) ms: \(timeoutOutcome) "
                    + "(on_timeout)")
        }
        guard resolution != nil else { return nil }
        waiting.removeFirst()
        askedNs = nil
        return resolution
    }

    /// The guard is exiting: every process still stopped gets on_timeout (`Enforcer.releaseAll`); their PIDs.
    func remaining() -> [Int32] {
        let pids = waiting.map(\.pid).filter { enforcer.stopped[$0] != nil }
        waiting.removeAll()
        return pids
    }
}

/// The cgroup v2 ids (the inode numbers of their directories) of a cgroup and every cgroup below it, for `-c`.
enum CgroupIDs {
    static func under(_ dir: String) -> Set<UInt64> {
        var out: Set<UInt64> = []
        var queue = [dir]
        while let d = queue.popLast(), out.count < 100_000 {
            var st = stat()
            guard stat(d, &st) == 0 else { continue }
            out.insert(UInt64(st.st_ino))
            for e in ProcFS.entries(of: d) where access(d + "/" + e + "/cgroup.procs", F_OK) == 0 {
                queue.append(d + "/" + e)
            }
        }
        return out
    }
}
