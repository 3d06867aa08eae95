import CGlibc

/// How every command writes what it reports: text lines, or JSON Lines (SPEC §4).
public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json
}

/// Turns events into JSON Lines (SPEC §4) and execsnoop-like text lines.
public enum EventJSON {
    /// One exec or failed exec as a JSON object (no newline), with the violation's fields when given.
    public static func exec(_ e: ExecEvent, violation: Violation? = nil, into w: inout JSONWriter) {
        w.beginObject()
        switch e.kind {
        case .exec: w.field("type", "exec")
        case .failed: w.field("type", "exec-failed")
        }
        w.field("time", RFC3339.format(e.time))
        w.field("mono_ns", e.monotonicNs)
        w.field("pid", e.pid)
        w.field("ppid", e.ppid)
        w.field("uid", e.uid)
        w.field("gid", e.gid)
        w.field("comm", bytes: e.comm)
        w.field("filename", bytes: e.filename)
        if case .failed(let errno) = e.kind {
            w.field("errno", errno)
            w.field("error", Errno.name(errno))
        } else {
            w.field("path", bytes: e.path)
        }
        w.field("argv", byteArray: e.argv)
        if let cwd = e.cwd { w.field("cwd", bytes: cwd) } else { w.fieldNull("cwd") }
        w.field("truncated", e.truncated)
        if e.traced { w.field("traced", true) }
        if !e.loaderEnv.isEmpty || e.loaderEnvCut { w.field("loader_env", byteArray: e.loaderEnv) }
        if e.loaderEnvCut { w.field("loader_env_truncated", true) }
        w.field("cgroup_id", e.cgroupID)
        w.field("root", e.root)
        if let v = violation { violationFields(v, into: &w) }
        w.endObject()
    }

    /// The fields a violation adds to the record of what caused it (an exec, a file call).
    static func violationFields(_ v: Violation, into w: inout JSONWriter) {
        w.field("rule", v.rule)
        w.field("action", v.action)
        w.field("enforced", v.enforced)
        w.field("severity", v.severity)
        w.field("policy", v.policy)
        w.field("matched", v.matched)
        if let d = v.description { w.field("description", d) }
        if let c = v.carriedBy { w.field("carried_by", c) }
        if let o = v.outcome { w.field("outcome", o) }
    }

    /// One ptrace/process_vm_writev of another process by a guarded process, or its signal to a process of the
    /// guard (`op` kill, with `signal`, `group` and `guard_continued`), with the violation it is, if any.
    public static func ptrace(_ e: PtraceEvent, violation: Violation? = nil, into w: inout JSONWriter) {
        w.beginObject()
        w.field("type", "ptrace")
        w.field("time", RFC3339.format(e.time))
        w.field("pid", e.pid)
        w.field("ppid", e.ppid)
        w.field("uid", e.uid)
        w.field("comm", bytes: e.comm)
        w.field("op", e.op.rawValue)
        w.field("target", e.target)
        if e.op == .signal {
            w.field("signal", "SIG" + PtraceEvent.signalName(e.signal))
            w.field("group", e.group)
            w.field("guard_continued", e.guardContinued)
        }
        if e.targetProcess != 0 { w.field("target_pid", e.targetProcess) } else { w.fieldNull("target_pid") }
        w.field("target_comm", bytes: e.targetComm)
        w.field("target_tracked", e.targetTracked)
        if e.targetTracked { w.field("target_execed", e.targetExeced) }
        if e.targetKilled { w.field("target_killed", true) }
        w.field("adopted", e.adopted)
        w.field("root", e.root)
        if let v = violation { violationFields(v, into: &w) }
        w.endObject()
    }

    public static func exit(_ e: ExitEvent, into w: inout JSONWriter) {
        w.beginObject()
        w.field("type", "exit")
        w.field("time", RFC3339.format(e.time))
        w.field("pid", e.pid)
        w.field("ppid", e.ppid)
        w.field("root", e.root)
        w.field("comm", bytes: e.comm)
        if let code = e.exitCode { w.field("status", code) } else { w.fieldNull("status") }
        if let sig = e.signal { w.field("signal", sig) } else { w.fieldNull("signal") }
        w.field("duration_ms", Double(e.durationNs / 1000) / 1000)
        w.endObject()
    }

    public static func lost(_ count: UInt64, time: WallTime, into w: inout JSONWriter) {
        w.beginObject()
        w.field("type", "lost")
        w.field("time", RFC3339.format(time))
        w.field("count", count)
        w.endObject()
    }

    /// A notice the guard prints on stderr (a hold that timed out, a stopped process resolved), for --otlp.
    public static func notice(_ message: String, time: WallTime, into w: inout JSONWriter) {
        w.beginObject()
        w.field("type", "notice")
        w.field("time", RFC3339.format(time))
        w.field("message", message)
        w.endObject()
    }

    public static func summary(_ s: Summary, time: WallTime, into w: inout JSONWriter) {
        w.beginObject()
        w.field("type", "summary")
        w.field("time", RFC3339.format(time))
        w.field("execs", s.execs)
        w.field("exec_failures", s.execFailures)
        w.field("exits", s.exits)
        w.field("lost", s.lost)
        w.field("violations", s.violations)
        w.field("killed", s.killed)
        w.field("stopped", s.stopped)
        w.field("alerted", s.alerted)
        w.field("denied", s.denied)
        w.field("file_events", s.fileEvents)
        w.field("held", s.held)
        w.field("bash_lines", s.bashLines)
        w.field("hold_timeouts", s.holdTimeouts)
        w.field("untracked", s.untracked)
        w.field("unheld", s.unheld)
        w.field("peak_rss_kb", s.peakRSSKiB)
        if let m = s.holdDecisionMedianUs { w.field("hold_decision_median_us", m) }
        if let p = s.holdDecisionP99Us { w.field("hold_decision_p99_us", p) }
        if let n = s.otlpSent { w.field("otlp_sent", n) }
        if let n = s.otlpDropped { w.field("otlp_dropped", n) }
        w.key("rules")
        w.beginObject()
        for (rule, n) in s.perRule.sorted(by: { $0.key < $1.key }) { w.field(rule, n) }
        w.endObject()
        w.beginArray("leftover_descendants")
        for pid in s.leftovers { w.value(String(pid)) }
        w.endArray()
        if let status = s.exitStatus { w.field("exit_status", status) } else { w.fieldNull("exit_status") }
        w.field("duration_ms", Double(s.durationNs / 1000) / 1000)
        w.endObject()
    }
}

/// Options of the text output (execsnoop's flags).
public struct TextOptions: Sendable {
    /// -T: wall-clock time column.
    public var time = false
    /// -t: seconds since start column.
    public var seconds = false
    /// -U: uid column.
    public var uid = false
    /// -q: quote every argument.
    public var quote = false
    /// --max-args: at most this many arguments shown.
    public var maxArgs = Int.max

    public init(time: Bool = false, seconds: Bool = false, uid: Bool = false, quote: Bool = false, maxArgs: Int = .max)
    {
        self.time = time
        self.seconds = seconds
        self.uid = uid
        self.quote = quote
        self.maxArgs = maxArgs
    }
}

/// execsnoop-like text lines: `PCOMM PID PPID RET ARGS`, with optional time and uid columns.
public struct TextFormatter: Sendable {
    public var options: TextOptions
    /// Monotonic time of the start, for -t.
    public var startNs: UInt64

    public init(options: TextOptions, startNs: UInt64) {
        self.options = options
        self.startNs = startNs
    }

    public var header: String {
        var s = ""
        if options.time { s += pad("TIME", 9) }
        if options.seconds { s += pad("TIME(s)", 9) }
        if options.uid { s += pad("UID", 7) }
        return s + pad("PCOMM", 17) + pad("PID", 8) + pad("PPID", 8) + pad("RET", 4) + "ARGS"
    }

    public func line(_ e: ExecEvent) -> String {
        var s = prefix(time: e.time, mono: e.monotonicNs, uid: e.uid)
        let ret: Int32
        if case .failed(let errno) = e.kind { ret = -errno } else { ret = 0 }
        s += pad(Self.printable(e.comm), 17) + pad(String(e.pid), 8) + pad(String(e.ppid), 8) + pad(String(ret), 4)
        s += args(e)
        if e.truncated { s += " ..." }
        return s
    }

    public func exitLine(_ e: ExitEvent) -> String {
        var s = prefix(time: e.time, mono: nil, uid: nil)
        let status = e.exitCode.map { "exit \($0)" } ?? "signal \(e.signal ?? 0)"
        s += pad(Self.printable(e.comm), 17) + pad(String(e.pid), 8) + pad(String(e.ppid), 8) + pad("-", 4)
        return s + "EXIT \(status) after \(Self.duration(e.durationNs))"
    }

    public func violationLine(_ e: ExecEvent, _ v: Violation) -> String {
        "!! \(v.enforced.uppercased()) pid \(e.pid) rule \(v.rule) (\(v.severity)): \(Self.printable(Array(v.matched.utf8)))"
    }

    /// ARGS column: `EXEC | payload` for `sh -c payload`, as claude_trace shows it.
    func args(_ e: ExecEvent) -> String {
        if let payload = Self.shellPayload(e.argv) { return "EXEC | " + Self.printable(payload) }
        let shown = e.argv.prefix(options.maxArgs)
        var parts = shown.map {
            options.quote ? "\"" + Self.printable($0, quoteEscape: true) + "\"" : Self.printable($0)
        }
        if e.argv.count > shown.count { parts.append("...") }
        return parts.joined(separator: " ")
    }

    /// The optional leading columns of every line under the exec header: -T time, -t seconds, -U uid.
    func prefix(time: WallTime, mono: UInt64?, uid: UInt32?) -> String {
        var s = ""
        if options.time { s += pad(Self.clock(time), 9) }
        if options.seconds {
            let secs = mono.map { Double($0 &- startNs) / 1e9 } ?? 0
            s += pad(Self.fixed3(secs), 9)
        }
        if options.uid { s += pad(uid.map(String.init) ?? "-", 7) }
        return s
    }

    /// The `-c` string of a shell's argv (`bash -o pipefail -c STRING`), if argv is one: read as the evaluator
    /// reads it (`Wrappers.shellCommandIndex`), so `bash SCRIPT -c X` shows as the script it is.
    public static func shellPayload(_ argv: [[UInt8]]) -> [UInt8]? {
        guard argv.count >= 3, let name = argv.first else { return nil }
        let base = String(decoding: name.split(separator: UInt8(ascii: "/")).last ?? name[...], as: UTF8.self)
        guard Wrappers.shells.contains(base) else { return nil }
        let words = argv.map { String(decoding: $0, as: UTF8.self) }
        return Wrappers.shellCommandIndex(base, argv: words).map { argv[$0] }
    }

    /// Bytes as one printable line: controls as \n, \t, \xNN; invalid UTF-8 as \xNN.
    public static func printable(_ raw: [UInt8], quoteEscape: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let b = raw[i]
            if b >= 0x80 {
                let len = JSONWriter.sequenceLength(raw, i)
                if len > 0 {
                    out += String(decoding: raw[i..<(i + len)], as: UTF8.self)
                    i += len
                } else {
                    out += "\\x" + hex2(b)
                    i += 1
                }
                continue
            }
            switch b {
            case ASCII.lf: out += "\\n"
            case ASCII.tab: out += "\\t"
            case ASCII.cr: out += "\\r"
            case UInt8(ascii: "\"") where quoteEscape: out += "\\\""
            case UInt8(ascii: "\\") where quoteEscape: out += "\\\\"
            case 0..<ASCII.space, ASCII.delete: out += "\\x" + hex2(b)
            default: out.unicodeScalars.append(Unicode.Scalar(b))
            }
            i += 1
        }
        return out
    }

    static func hex2(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    static func clock(_ t: WallTime) -> String {
        let full = RFC3339.format(t)  // 2026-11-23T12:34:56.123456Z
        let start = full.index(full.startIndex, offsetBy: 11)
        return String(full[start..<full.index(start, offsetBy: 8)])
    }

    static func fixed3(_ v: Double) -> String {
        let ms = Int64((v * 1000).rounded())
        let frac = String(ms % 1000)
        return "\(ms / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
    }

    static func duration(_ ns: UInt64) -> String {
        ns >= 1_000_000_000 ? fixed3(Double(ns) / 1e9) + "s" : fixed3(Double(ns) / 1e6) + "ms"
    }

    func pad(_ s: String, _ width: Int) -> String {
        s.count >= width - 1 ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}

/// errno numbers to their names, for failed execs: glibc's `strerrorname_np` (`E\(n)` for a number it does not
/// know).
public enum Errno {
    public static func name(_ n: Int32) -> String {
        strerrorname_np(n).map { String(cString: $0) } ?? "E\(n)"
    }
}
