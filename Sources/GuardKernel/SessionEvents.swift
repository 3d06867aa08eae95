import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// The session's events: each kernel record judged, shown and logged (-o, --violations, JSON stdout, --otlp).
extension GuardSession {
    func handle(_ event: KernelEvent) {
        switch event {
        case .exec(let e):
            if case .failed = e.kind { summary.execFailures += 1 } else { summary.execs += 1 }
            let toolUse: String? = if case .exec = e.kind { intent?.exec(e) } else { nil }
            writeTraffic()
            if fileGuard != nil, case .exec = e.kind { programOf[e.pid] = Self.program(e) }
            bashProbe?.execed(e)
            var violation = enforcer.handle(e)
            if e.held { holdShadow.held(e.pid, nowNs: e.monotonicNs) }
            let now = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
            if e.held { decisionNs.append(now &- e.monotonicNs) }
            if case .exec = e.kind, let by = carried.admit(pid: e.pid, ppid: e.ppid, violation: violation) {
                violation?.carriedBy = by
            }
            if let v = violation, v.carriedBy == nil {
                record(v)
                violations.append((e, v))
            }
            // Said after its rows, whatever the display filters show: a stopped process is never left unmentioned.
            var say: String? = nil
            if let v = violation, v.enforced.hasPrefix("stopped") {
                say = stops.add(pid: e.pid, command: v.matched, rule: v.rule, nowNs: now)
            }
            defer { if let say { notice(say) } }
            if violation != nil, let id = toolUse { toolUseOf[e.pid] = id }
            let line = logRecord(violation: violation, toolUse: toolUse) {
                EventJSON.exec(e, violation: violation, into: &$0)
            }
            guard shows(e) else { return }
            if options.format == .json {
                stdout.write(line)
            } else {
                stdout.write(line: formatter.line(e))
                if let v = violation {
                    var row = formatter.violationLine(e, v) + (toolUse.map { " [tool_use \($0)]" } ?? "")
                    if let by = v.carriedBy { row += " (the command pid \(by) carried: one violation)" }
                    stdout.write(line: row)
                }
            }
        case .file(let f):
            handleFile(f)
        case .ptrace(let p):
            handlePtrace(p)
        case .bash(let l):
            handleBash(l)
        case .exit(let x):
            intent?.exited(x, nowNs: UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
            writeTraffic()
            enforcer.exited(x.pid)
            carried.exited(x.pid)
            programOf[x.pid] = nil
            summary.exits += 1
            let line = jsonLine { EventJSON.exit(x, into: &$0) }
            log(line)
            if options.format == .json { stdout.write(line) }
        }
    }

    private func handleFile(_ f: FileEvent) {
        summary.fileEvents += 1
        let exe = f.kernelRule == nil ? programOf[f.pid] ?? realPath("/proc/\(f.pid)/exe") : nil
        let violation = fileGuard?.handle(f, processPath: exe, workspace: enforcer.workspace)
        let toolUse = violation != nil || options.files ? intent?.toolUse(of: f.pid) : nil
        if violation != nil, let id = toolUse { toolUseOf[f.pid] = id }
        if let v = violation {
            record(v)
            fileViolations.append((f, v))
        }
        guard violation != nil || options.files else { return }
        let line = logRecord(violation: violation, toolUse: toolUse) {
            EventJSON.file(f, violation: violation, into: &$0)
        }
        if options.format == .json {
            stdout.write(line)
        } else {
            if options.files { stdout.write(line: formatter.fileLine(f)) }
            if let v = violation { stdout.write(line: formatter.fileViolationLine(f, v)) }
        }
    }

    /// A guarded process's ptrace/process_vm_writev of another process: always logged (-o), a violation when it
    /// reached outside the guarded trees (settings.ptrace).
    private func handlePtrace(_ p: PtraceEvent) {
        let violation = enforcer.handle(p)
        if let v = violation {
            record(v)
            ptraceViolations.append((p, v))
            if v.enforced.hasPrefix("stopped") {
                let now = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
                if let say = stops.add(pid: p.pid, command: v.matched, rule: v.rule, nowNs: now) { notice(say) }
            }
        }
        let line = logRecord(violation: violation, toolUse: nil) { EventJSON.ptrace(p, violation: violation, into: &$0) }
        if options.format == .json {
            stdout.write(line)
        } else if let v = violation {
            stdout.write(
                line: "!! \(v.enforced.uppercased()) pid \(p.pid) rule \(v.rule) (\(v.severity)): "
                    + TextFormatter.printable(Array(v.matched.utf8)))
        }
    }

    /// The file an exec named, as a real path (a script stays the script; its interpreter is `path`).
    static func program(_ e: ExecEvent) -> String? {
        let name = String(decoding: e.filename, as: UTF8.self)
        if name.hasPrefix("/") { return realPath(name) }
        guard let cwd = e.cwd else { return nil }
        return realPath(String(decoding: cwd, as: UTF8.self) + "/" + name)
    }

    /// Encodes an exec or file record once, for every sink that wants it (-o, --violations, JSON stdout), with its
    /// tool_use_id, and writes it to the log files; returns it for stdout (empty when no sink wants JSON).
    func logRecord(violation: Violation?, toolUse: String?, _ encode: (inout JSONWriter) -> Void) -> [UInt8] {
        let wantsJSON =
            jsonFile != nil || otlp != nil || (violation != nil && violationsFile != nil) || options.format == .json
        guard wantsJSON else { return [] }
        let line = jsonLine {
            encode(&$0)
            Self.addToolUse(toolUse, to: &$0)
        }
        log(line)
        if violation != nil, let file = violationsFile {
            file.write(line)
            file.flush()
        }
        return line
    }

    /// A record for every log (-o, --otlp).
    func log(_ line: [UInt8]) {
        jsonFile?.write(line)
        otlp?.add(line)
    }

    /// `tool_use_id` on the record just encoded, when the process runs for a tool use.
    static func addToolUse(_ id: String?, to w: inout JSONWriter) {
        guard let id else { return }
        w.reopenObject()
        w.field("tool_use_id", id)
        w.endObject()
    }

    /// The agent's decoded traffic: JSON to the logs, the tool uses (and, with --capture-bodies, all of it) as
    /// text above the commands they cause.
    func writeTraffic() {
        guard let events = intent?.take(), !events.isEmpty else { return }
        for e in events {
            let line = TrafficJSON.line(e, redact: true)
            log(line)
            if options.format == .json {
                stdout.write(line)
            } else if case .llm(let l) = e, l.toolUse != nil || options.captureBodies {
                stdout.write(line: formatter.trafficLine(e))
            } else if options.captureBodies {
                stdout.write(line: formatter.trafficLine(e))
            }
        }
    }

    /// One JSON Lines record (newline included), encoded in the session's reused writer.
    func jsonLine(_ encode: (inout JSONWriter) -> Void) -> [UInt8] {
        writer.reset()
        encode(&writer)
        writer.newline()
        return writer.bytes
    }

    /// The display filters (-n -l -u -P); they never affect what is enforced or logged to files.
    private func shows(_ e: ExecEvent) -> Bool {
        if let uid = options.uidFilter, e.uid != uid { return false }
        if let ppid = options.ppidFilter, e.ppid != ppid { return false }
        if let r = nameRegex, !r.search(String(decoding: e.comm, as: UTF8.self)) { return false }
        if let r = lineRegex, !r.search(e.argvStrings.joined(separator: " ")) { return false }
        if let dir = options.cgroupFilter, !cgroupIDs.contains(e.cgroupID) {
            // A cgroup made below it since the last scan is below it too.
            guard cgroupMisses.insert(e.cgroupID).inserted else { return false }
            cgroupIDs = CgroupIDs.under(dir)
            return cgroupIDs.contains(e.cgroupID)
        }
        return true
    }
}
