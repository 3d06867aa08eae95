import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Judges each exec of the guarded trees against the policy and carries the verdict out.
///
/// Held execs (SIGSTOP at exec) are resumed, killed or left stopped; the kernel learns a verdict per file
/// identity so later execs of programs no rule can act on pass without a hold. In audit mode nothing is
/// signalled and violations say what would have been done.
public final class Enforcer {
    public let policy: Policy
    public let audit: Bool
    /// `${workspace}`: the guarded root's working directory, or --workspace.
    public var workspace: String?
    unowned let bpf: BPFGuard
    /// Where the verdicts this policy teaches the kernel go: the kernel's map, or (daemon) the union of every
    /// loaded policy's (`VerdictUnion`).
    private let verdicts: KernelVerdicts
    private let programs: ProgramIdentity
    /// Judges every exec with one evaluator kept between execs (parse buffers and name cache reused).
    private let judge: ExecJudge
    /// The last exec of each live guarded process (without its own parent chain), for `parent:` rules.
    private var contexts: [Int32: ExecContext] = [:]
    /// Identities whose kernel verdict is set already.
    private var programmed: Set<FileIdentity> = []
    /// What each interactive bash of the tree is reading, and the aliases and functions it defined.
    private var shells: [Int32: InteractiveShell] = [:]
    /// Processes left stopped by a `stop` verdict, awaiting `claude-guard resume|kill PID`.
    public private(set) var stopped: [Int32: String] = [:]
    /// Where `claude-guard resume|kill PID` leave their requests for this guard (`HeldRequests`).
    let requestDir: String

    /// CLAUDE_GUARD_FAULT=no-verdict: never answer a hold (for the timeout tests; debug builds only).
    #if DEBUG
        static let faultNoVerdict = getenv("CLAUDE_GUARD_FAULT").map { String(cString: $0) } == "no-verdict"
    #else
        static let faultNoVerdict = false
    #endif
    /// The kernel could not learn a verdict (its map is full); said once.
    private var verdictMapFailed = false
    /// What the session has to say, once each (`takeWarnings`).
    private var warnings: [String] = []

    /// The kernel configuration this policy and mode need.
    public static func kernelConfig(policy: Policy, audit: Bool) -> KernelConfig {
        var config = KernelConfig(
            enforce: !audit, defaultVerdict: audit ? .pass : .hold,
            unreportedVerdict: policy.onTimeout == .allow ? .pass : .kill)
        config.ptraceVerdict = policy.ptrace == .kill ? .kill : policy.ptrace == .stop ? .hold : .pass
        config.tamper = policy.tamper != .allow
        config.tamperVerdict = policy.tamper == .kill ? .kill : .pass
        return config
    }

    /// Seeds the kernel with the verdicts of every program the policy names (all PATH hits, so links too).
    ///
    /// - Throws: `GuardError` when the kernel map cannot be written.
    public init(
        policy: Policy, audit: Bool, workspace: String?, bpf: BPFGuard, verdicts: KernelVerdicts? = nil
    ) throws {
        self.policy = policy
        self.audit = audit
        self.workspace = workspace
        self.bpf = bpf
        self.verdicts = verdicts ?? bpf
        requestDir = HeldRequests.directory(ofGuard: getpid())
        judge = ExecJudge(policy: policy)
        programs = ProgramIdentity(
            names: policy.namesOfInterest, paths: policy.pathsOfInterest,
            searchPath: getenv("PATH").map { String(cString: $0) }, runners: !policy.namesOfInterest.isEmpty)
        guard !audit else { return }
        for t in programs.targets where programmed.insert(t.identity).inserted {
            let identities = programs.targets.filter { $0.identity == t.identity }.map(\.name)
            try teach(t.identity, path: t.path, identities: identities)
        }
        try Self.makeRequestDirectory(requestDir)
    }

    deinit { removeRequestDir() }

    /// Sets the kernel verdict of a file (and, for one held, the argv words without which it passes there).
    private func teach(_ file: FileIdentity, path: String, identities: [String]) throws(GuardError) {
        let verdict = policy.programVerdict(path: path, identities: identities)
        // Hold words are one policy's: the daemon's union of policies (`verdicts` is not the kernel's map) keeps
        // every hold of a held program, safe and slower.
        if verdict == .hold, verdicts === bpf, let w = policy.holdWords(path: path, identities: identities) {
            try bpf.setHoldWords(file, words: w.words, names: w.names)
        }
        try verdicts.setVerdict(file, Self.kernel(verdict))
    }

    static func kernel(_ v: ProgramVerdict) -> KernelVerdict {
        switch v {
        case .pass: return .pass
        case .hold: return .hold
        case .kill: return .kill
        }
    }

    /// Judges one exec and acts on it; returns the violation it is, if any.
    public func handle(_ e: ExecEvent) -> Violation? {
        guard case .exec = e.kind else { return nil }
        let path = String(decoding: e.path, as: UTF8.self)
        // The executed file itself while the process lives (held ones do); else its path, if it still exists.
        let exe = access("/proc/\(e.pid)/exe", R_OK) == 0 || e.held ? "/proc/\(e.pid)/exe" : path
        let identities = programs.names(of: e.file, exe: exe)
        // An argv longer than the kernel copies is judged whole, read while the process is held.
        var argv = e.argvStrings
        var cut = false
        if e.truncated {
            if let whole = Self.wholeArgv(e) { argv = whole } else { cut = true }
        }
        let names =
            [path, String(decoding: e.filename, as: UTF8.self)].map { String($0.split(separator: "/").last ?? "") }
            + identities
        if ProgramRunners.readsEnvironment(names) {
            // qemu-user takes options from its environment too (QEMU_ARGV0): read while it is held.
            let environ = ProcFS.readBytes("/proc/\(e.pid)/environ", limit: Self.maxArgvBytes) ?? []
            let vars = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            argv = ProgramRunners.argv(argv, names: names, environ: vars)
        }
        var ctx = ExecContext(
            argv: argv, path: path, filename: String(decoding: e.filename, as: UTF8.self),
            cwd: e.cwd.map { String(decoding: $0, as: UTF8.self) }, uid: e.uid, identities: identities,
            workspace: workspace)
        if contexts[e.ppid] == nil, let parent = Self.procContext(e.ppid) { contexts[e.ppid] = parent }
        ctx.parent = contexts[e.ppid]
        var stored = ctx
        stored.parent = nil
        contexts[e.pid] = stored

        // Test hook: behave as a guard too slow to answer, so hold_timeout_ms/on_timeout decide.
        if e.held && Self.faultNoVerdict { return nil }
        let pid = e.pid
        let cwd = ctx.cwd
        var verdict = judge.evaluate(
            ctx,
            identify: { [programs] program in
                Self.processProgram(program, pid: pid, cwd: cwd).map { programs.names(ofPath: $0) } ?? []
            }, paths: ProcessPaths(pid: pid, cwd: cwd))
        if cut && policy.onTimeout != .allow && verdict.action != .kill
            && (e.held || (audit && policy.programVerdict(path: path, identities: identities) != .pass))
        {
            // Not the whole argv: what was not read could hold anything (fail closed, as for a hold timeout).
            verdict = Verdict(
                action: .kill, severity: .high, matched: ctx.commandLine,
                description: "argv longer than the kernel copies could not be read whole (settings.on_timeout)")
        }
        if let risk = rewriteRisk(e, commandLine: ctx.commandLine, path: path, identities: identities),
            risk.action > verdict.action
        {
            verdict = risk
        }
        if e.held && !audit && verdict.action <= .alert { traceJobShell(e, names: names, argv: argv) }
        // A shell's execs stay held while the job-control tracer runs: an interactive one is seized at its exec.
        let shell = bpf.tracesJobShells && names.contains { Self.shellNames.contains($0) }
        if !audit && !e.killedInKernel && !shell && programmed.insert(e.file).inserted && e.file.inode != 0 {
            // Learn this file's verdict: the next exec of it needs no round trip unless its arguments matter. If the
            // kernel cannot learn it, later execs of the file are held and judged here: slower, as safe.
            do {
                try teach(e.file, path: path, identities: identities)
            } catch {
                if !verdictMapFailed {
                    warnings.append("\(error) Programs new to the kernel are held and judged here: slower, as safe.")
                }
                verdictMapFailed = true
            }
        }
        let enforced = act(e, verdict)
        guard verdict.action != .allow else { return nil }
        return Violation(
            rule: verdict.rule ?? "(\(verdict.description ?? "policy"))", action: verdict.action.rawValue,
            enforced: enforced, severity: (verdict.severity ?? .medium).rawValue, policy: policy.name,
            matched: verdict.matched ?? ctx.commandLine, description: verdict.description)
    }

    /// Judges a line an interactive bash read, as the `bash -c` payload of that shell, and acts on the shell
    /// before it runs the line (it is held); returns the violation it is, if any.
    ///
    /// A line that continues a command (an open loop, quote or here-document) runs nothing yet: it is let
    /// through unless what is read so far hits a `stop` or `kill`, and the command is judged whole with its last
    /// line.
    public func handleLine(_ l: BashLineEvent) -> Violation? {
        var shell = shells[l.pid] ?? InteractiveShell()
        defer { shells[l.pid] = shell }
        var line = l.line
        var cut = false
        if l.truncated {
            if let whole = Self.wholeLine(l) { line = whole } else { cut = true }
        }
        let text = shell.read(String(decoding: line, as: UTF8.self))
        if contexts[l.pid] == nil, let c = Self.procContext(l.pid) { contexts[l.pid] = c }
        var me = contexts[l.pid]
        if contexts[l.ppid] == nil, let parent = Self.procContext(l.ppid) { contexts[l.ppid] = parent }
        me?.parent = contexts[l.ppid]
        if l.held && Self.faultNoVerdict { return nil }
        let environ = ProcFS.readBytes("/proc/\(l.pid)/environ", limit: Self.maxArgvBytes) ?? []
        let home = environ.split(separator: 0).lazy.map { String(decoding: $0, as: UTF8.self) }
            .first { $0.hasPrefix("HOME=") }.map { String($0.dropFirst(5)) }
        var verdict = policy.judgeInteractive(
            text, shell: shell, shellPath: me?.path ?? realPath("/proc/\(l.pid)/exe") ?? "bash",
            cwd: l.cwd.map { String(decoding: $0, as: UTF8.self) }, uid: l.uid, workspace: workspace, parent: me,
            home: home)
        let unparsableOnly = verdict.rule == nil && (verdict.description ?? "").contains("settings.unparsable")
        let goesOn = InteractiveShell.incomplete(text) && (verdict.action <= .alert || unparsableOnly)
        if goesOn {
            shell.goesOn(text)
            verdict = Verdict(action: .allow)
        } else if cut && policy.onTimeout != .allow && verdict.action != .kill && (l.held || audit) {
            // Not the whole line: what was not read could hold anything (fail closed, as for a cut argv).
            verdict = Verdict(
                action: .kill, severity: .high, matched: text,
                description: "line longer than the kernel copies could not be read whole (settings.on_timeout)")
        }
        if verdict.action <= .alert && !goesOn {
            shell.learn(text)
            if !audit { learnVerdicts(of: shell.payloads(text), pid: l.pid, cwd: l.cwd.map { String(decoding: $0, as: UTF8.self) }) }
        }
        let enforced = act(pid: l.pid, held: l.held, killedInKernel: l.killedInKernel, verdict, command: text)
        guard verdict.action != .allow else { return nil }
        return Violation(
            rule: verdict.rule ?? "(\(verdict.description ?? "policy"))", action: verdict.action.rawValue,
            enforced: enforced, severity: (verdict.severity ?? .medium).rawValue, policy: policy.name,
            matched: verdict.matched ?? text, description: verdict.description)
    }

    /// Sets the kernel verdict of each program an allowed line names, as its first exec would: a program no rule
    /// can act on then runs without a hold. In a shell with job control a held child is a stopped job (bash
    /// prints `Stopped` and takes the terminal back before the guard resumes it in the background).
    private func learnVerdicts(of payloads: [String], pid: Int32, cwd: String?) {
        for payload in payloads {
            for c in ShellScript.parse(payload).commands {
                guard let name = c.argv.first, c.unknown.first != 0, !name.isEmpty,
                    let local = Self.processProgram(name, pid: pid, cwd: cwd),
                    let (identity, _) = ProgramIdentity.fileInfo(local),
                    !(bpf.tracesJobShells && Self.shellNames.contains(String(local.split(separator: "/").last ?? ""))),
                    programmed.insert(identity).inserted
                else { continue }
                let path = realPath(local) ?? local
                try? teach(identity, path: path, identities: programs.names(ofPath: local))
            }
        }
    }

    /// The whole of a line longer than the kernel copies, read from the held shell's memory; nil when it cannot
    /// be read whole or does not begin with what the kernel copied.
    static func wholeLine(_ l: BashLineEvent) -> [UInt8]? {
        guard l.held, l.lineAddress != 0 else { return nil }
        let fd = open("/proc/\(l.pid)/mem", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while out.count < maxArgvBytes {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(l.lineAddress) + off_t(out.count)) }
            guard n > 0 else { return nil }
            if let end = chunk[0..<n].firstIndex(of: 0) {
                out += chunk[0..<end]
                return out.starts(with: l.line) ? out : nil
            }
            out += chunk[0..<n]
        }
        return nil
    }

    /// Carries out a verdict; returns what was done (SPEC §4 `enforced`).
    private func act(_ e: ExecEvent, _ v: Verdict) -> String {
        act(pid: e.pid, held: e.held, killedInKernel: e.killedInKernel, v, command: e.argvStrings.joined(separator: " "))
    }

    /// Carries out a verdict on a process (held: stopped by the kernel, waiting for it).
    private func act(pid: Int32, held: Bool, killedInKernel: Bool, _ v: Verdict, command: @autoclosure () -> String)
        -> String
    {
        if killedInKernel { return "killed" }
        if audit {
            switch v.action {
            case .allow: return "allowed"
            case .alert: return "alerted"
            case .stop: return "would-stop"
            case .kill: return "would-kill"
            }
        }
        switch v.action {
        case .allow, .alert:
            if held { resume(pid) }
            return v.action == .alert ? "alerted" : "allowed"
        case .kill:
            kill(pid, SIGKILL)  // the kernel forgets the hold when it exits
            return held ? "killed" : "killed-late"
        case .stop:
            if !held { kill(pid, SIGSTOP) }
            stopped[pid] = v.matched ?? command()
            return held ? "stopped" : "stopped-late"
        }
    }

    private func resume(_ pid: Int32) { bpf.resume(pid) }

    /// Shells with job control the job-control tracer can seize.
    static let shellNames: Set<String> = ["bash", "sh", "dash", "zsh", "ksh", "mksh"]
    /// EPERM from a seize (the shell is traced by someone else) was said.
    private var untraceableSaid = false

    /// An allowed held exec: an interactive shell reading a terminal is traced by the job-control tracer before
    /// it runs (a hold in its tree is then a ptrace stop it never sees, issue 12 class 8); anything else a
    /// tracee exec'd is detached once let go. The guard's own child is left alone: its ptrace stops would
    /// reach the guard's waitpid.
    private func traceJobShell(_ e: ExecEvent, names: [String], argv: [String]) {
        guard bpf.tracesJobShells else { return }
        // The /proc read last: most held execs are no shell and need none.
        guard names.contains(where: { Self.shellNames.contains($0) }), BashProbe.interactive(argv), e.ppid != getpid(),
            let tty = realPath("/proc/\(e.pid)/fd/0"), tty.hasPrefix("/dev/pts/") || tty.hasPrefix("/dev/tty")
        else {
            bpf.forgetJobShell(e.pid)
            return
        }
        guard let err = bpf.traceJobShell(e.pid) else { return }
        if !untraceableSaid {
            untraceableSaid = true
            warnings.append(
                "pid \(e.pid) (an interactive shell) cannot be traced by the guard (\(String(cString: strerror(err)))"
                    + ", traced by someone else?): a command held in it shows as Stopped there")
        }
    }

    /// Judges a guarded process's ptrace, process_vm_writev or /proc/PID/mem write of another process
    /// (`settings.ptrace`) and acts on it; returns the violation it is, if any. Judged are a process outside every
    /// guarded tree and a tracked one that has exec'd since its fork (its argv was judged: a write now rewrites
    /// it); a tracer following its child from before its exec is not (its traced execs are `settings.traced_exec`).
    public func handle(_ p: PtraceEvent) -> Violation? {
        if p.op == .signal { return tamper(p) }
        guard p.judged, policy.ptrace != .allow else {
            if p.held { resume(p.pid) }
            return nil
        }
        var enforced: String
        if p.killedInKernel {
            enforced = "killed"
            if p.op == .attach && !p.targetWasStopped {
                Self.continueAfterAttach(target: p.targetProcess, tracer: p.pid)
            }
        } else if audit {
            enforced = "would-" + policy.ptrace.rawValue
        } else {
            switch policy.ptrace {
            case .allow, .alert:
                if p.held { resume(p.pid) }
                enforced = "alerted"
            case .kill:
                kill(p.pid, SIGKILL)
                // Held (the daemon's kernel holds every reach, each tree's policy decides here): stopped before
                // it went on, as if killed in the kernel.
                enforced = p.held ? "killed" : "killed-late"
                if p.held && p.op == .attach && !p.targetWasStopped {
                    Self.continueAfterAttach(target: p.targetProcess, tracer: p.pid)
                }
            case .stop:
                if !p.held { kill(p.pid, SIGSTOP) }
                stopped[p.pid] = p.description
                enforced = p.held ? "stopped" : "stopped-late"
            }
        }
        if audit && policy.ptrace == .alert { enforced = "alerted" }
        return Violation(
            rule: "settings.ptrace", action: policy.ptrace.rawValue, enforced: enforced,
            severity: Severity.high.rawValue,
            policy: policy.name, matched: p.description,
            description: p.reachesOutside
                ? "a guarded process reached into a process outside the guarded trees (settings.ptrace)"
                : "a guarded process wrote (or attached to) another guarded process after its exec was judged (settings.ptrace)")
    }

    /// Judges a guarded process's signal to one of the guard's own processes (`settings.tamper`, issue 12 class 7).
    /// The kernel acted already: a stop signal was undone (SIGCONT as the call returned), the guard ignores any
    /// other from its tree (spawn.c), and with kill the sender died before its call returned. What is left is to say it, and to finish a stop's undo the kernel could not do (no bpf_send_signal_task).
    func tamper(_ p: PtraceEvent) -> Violation? {
        guard policy.tamper != .allow else { return nil }
        let stop = [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU].contains(p.signal)
        if stop && !p.guardContinued { kill(p.targetProcess, SIGCONT) }
        let enforced = p.killedInKernel ? "killed" : audit && policy.tamper == .kill ? "would-kill" : "alerted"
        let what =
            p.signal == SIGKILL
            ? "it is lost; the kernel keeps enforcing" : stop ? "the stop was undone" : "it ignored the signal"
        let whom = bpf.guardProcessName(p.targetProcess) ?? "process"
        return Violation(
            rule: "settings.tamper", action: policy.tamper.rawValue, enforced: enforced,
            severity: Severity.critical.rawValue, policy: policy.name, matched: p.description,
            description: "a guarded process signalled the guard's \(whom) (\(what); settings.tamper)")
    }

    /// Undoes PTRACE_ATTACH's own SIGSTOP to a tracee whose tracer was killed before it ran again.
    ///
    /// The kernel attaches before the tracer's SIGKILL is delivered and sends the tracee SIGSTOP; the tracer's
    /// death detaches it, and the SIGSTOP then stops it with nobody to continue it. Waits (at most ~100 ms each)
    /// for the tracer to be gone and the tracee to take that stop, then continues it. A tracee that was stopped
    /// before the attach is left as it was (the caller checks).
    static func continueAfterAttach(target: Int32, tracer: Int32) {
        func state(_ pid: Int32) -> UInt8? {
            guard let stat = ProcFS.readBytes("/proc/\(pid)/stat", limit: 4096),
                let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count
            else { return nil }
            return stat[close + 2]
        }
        for _ in 0..<200 {
            guard let s = state(tracer), s != UInt8(ascii: "Z"), s != UInt8(ascii: "X") else { break }
            usleep(500)
        }
        for _ in 0..<200 {
            guard let s = state(target) else { return }
            if s == UInt8(ascii: "T") {
                kill(target, SIGCONT)
                return
            }
            usleep(500)
        }
    }

    /// What went wrong without stopping the guard since the last call, for the session to say.
    public func takeWarnings() -> [String] {
        defer { warnings.removeAll() }
        return warnings
    }

    /// A process exited: forget it.
    public func exited(_ pid: Int32) {
        contexts[pid] = nil
        shells[pid] = nil
        stopped[pid] = nil
    }

    /// Gives held processes with no verdict after hold_timeout_ms the on_timeout action; returns their PIDs.
    public func sweepTimeouts(nowNs: UInt64) -> [Int32] {
        guard !audit else { return [] }
        let limit = UInt64(max(0, policy.holdTimeoutMs)) * 1_000_000
        var expired: [Int32] = []
        for (pid, since) in bpf.held() where stopped[pid] == nil && nowNs > since && nowNs - since > limit {
            applyTimeout(pid)
            expired.append(pid)
        }
        return expired
    }

    private func applyTimeout(_ pid: Int32) {
        if policy.onTimeout == .allow { resume(pid) } else { kill(pid, SIGKILL) }
    }

    /// Decides a process left stopped by a `stop` verdict: resume it, or kill it. False if it is not stopped.
    @discardableResult
    public func decideStopped(_ pid: Int32, allow: Bool) -> Bool {
        guard stopped.removeValue(forKey: pid) != nil else { return false }
        if allow { resume(pid) } else { kill(pid, SIGKILL) }
        return true
    }

    /// On exit: every held or stopped process gets the on_timeout action. Returns how many.
    @discardableResult
    public func releaseAll() -> Int {
        guard !audit else { return 0 }
        stopped.removeAll()
        return bpf.releaseAll(kill: policy.onTimeout != .allow)
    }

    /// The file a runner of the process `pid` loads for `program` (an absolute path, or a bare name that
    /// valgrind finds over PATH: the process's PATH, from its environment), as this process can open it.
    static func processProgram(_ program: String, pid: Int32, cwd: String?) -> String? {
        if program.hasPrefix("/") { return processPath(program, pid: pid) }
        let environ = ProcFS.readBytes("/proc/\(pid)/environ", limit: maxArgvBytes) ?? []
        let path =
            environ.split(separator: 0).lazy.map { String(decoding: $0, as: UTF8.self) }
            .first { $0.hasPrefix("PATH=") }?.dropFirst(5) ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let base = dir.isEmpty ? (cwd ?? "/") : dir.hasPrefix("/") ? String(dir) : (cwd ?? "/") + "/" + dir
            let candidate = processPath(base + "/" + program, pid: pid)
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// `path` (absolute, as the process `pid` wrote it) as this process can open the same file: /proc/self,
    /// /dev/fd and /dev/std* name the process's own files, and other paths are looked up from its root.
    static func processPath(_ path: String, pid: Int32) -> String {
        for (prefix, to) in [
            ("/proc/self/", "/proc/\(pid)/"), ("/proc/thread-self/", "/proc/\(pid)/"), ("/dev/fd/", "/proc/\(pid)/fd/"),
            ("/dev/stdin", "/proc/\(pid)/fd/0"), ("/dev/stdout", "/proc/\(pid)/fd/1"),
            ("/dev/stderr", "/proc/\(pid)/fd/2"),
        ] where path.hasPrefix(prefix) {
            return to + path.dropFirst(prefix.count)
        }
        if path.hasPrefix("/proc/") { return path }
        let root = "/proc/\(pid)/root"
        return access(root, F_OK) == 0 ? root + path : path
    }

    /// The most of /proc/PID/cmdline read for a truncated argv (above any argv Linux allows with an 8 MiB stack).
    static let maxArgvBytes = 1 << 25

    /// The whole argv of a truncated exec, read from /proc while the process is held; nil when it cannot be read
    /// whole or is not the argv the kernel began to copy.
    static func wholeArgv(_ e: ExecEvent) -> [String]? {
        guard let raw = ProcFS.readBytes("/proc/\(e.pid)/cmdline", limit: maxArgvBytes), raw.count < maxArgvBytes,
            let whole = ExecEvent.wholeArgv(kernel: e.argv, cmdline: raw)
        else { return nil }
        return whole.map { String(decoding: $0, as: UTF8.self) }
    }

    /// A process's argv, executable and cwd from /proc (for parents that exec'd before the guard attached).
    static func procContext(_ pid: Int32) -> ExecContext? {
        guard pid > 0, let raw = ProcFS.readBytes("/proc/\(pid)/cmdline", limit: 1 << 16), !raw.isEmpty else {
            return nil
        }
        var argv = raw.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if argv.last == "" { argv.removeLast() }
        return ExecContext(
            argv: argv, path: realPath("/proc/\(pid)/exe") ?? argv.first ?? "", cwd: realPath("/proc/\(pid)/cwd"))
    }
}
