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
    private unowned let bpf: BPFGuard
    private let programs: ProgramIdentity
    /// The last exec of each live guarded process (without its own parent chain), for `parent:` rules.
    private var contexts: [Int32: ExecContext] = [:]
    /// Identities whose kernel verdict is set already.
    private var programmed: Set<FileIdentity> = []
    /// Processes left stopped by a `stop` verdict, awaiting `claude-guard resume|kill PID`.
    public private(set) var stopped: [Int32: String] = [:]
    /// Where `claude-guard resume|kill PID` leave their requests for this guard.
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
        KernelConfig(
            enforce: !audit, defaultVerdict: audit ? .pass : .hold,
            unreportedVerdict: policy.onTimeout == .allow ? .pass : .kill)
    }

    /// Seeds the kernel with the verdicts of every program the policy names (all PATH hits, so links too).
    ///
    /// - Throws: `GuardError` when the kernel map cannot be written.
    public init(policy: Policy, audit: Bool, workspace: String?, bpf: BPFGuard) throws {
        self.policy = policy
        self.audit = audit
        self.workspace = workspace
        self.bpf = bpf
        requestDir = "/run/claude-guard/\(getpid())"
        programs = ProgramIdentity(
            names: policy.namesOfInterest, paths: policy.pathsOfInterest,
            searchPath: getenv("PATH").map { String(cString: $0) }, runners: !policy.namesOfInterest.isEmpty)
        guard !audit else { return }
        for t in programs.targets where programmed.insert(t.identity).inserted {
            let identities = programs.targets.filter { $0.identity == t.identity }.map(\.name)
            try bpf.setVerdict(t.identity, Self.kernel(policy.programVerdict(path: t.path, identities: identities)))
        }
        for (dir, mode): (String, mode_t) in [("/run/claude-guard", 0o755), (requestDir, 0o700)] {
            try syscall("create \(dir) (where `claude-guard resume|kill` leave requests)", .minusOne) {
                mkdir(dir, mode) == 0 || errno == EEXIST ? 0 : -1
            }
        }
    }

    deinit { removeRequestDir() }

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
        var verdict = policy.evaluate(ctx) { [programs] program in
            Self.processProgram(program, pid: pid, cwd: cwd).map { programs.names(ofPath: $0) } ?? []
        }
        if cut && policy.onTimeout != .allow && verdict.action != .kill
            && (e.held || (audit && policy.programVerdict(path: path, identities: identities) != .pass))
        {
            // Not the whole argv: what was not read could hold anything (fail closed, as for a hold timeout).
            verdict = Verdict(
                action: .kill, severity: .high, matched: ctx.commandLine,
                description: "argv longer than the kernel copies could not be read whole (settings.on_timeout)")
        }
        if !audit && !e.killedInKernel && programmed.insert(e.file).inserted && e.file.inode != 0 {
            // Learn this file's verdict: the next exec of it needs no round trip unless its arguments matter. If the
            // kernel cannot learn it, later execs of the file are held and judged here: slower, as safe.
            do {
                try bpf.setVerdict(e.file, Self.kernel(policy.programVerdict(path: path, identities: identities)))
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

    /// Carries out a verdict; returns what was done (SPEC §4 `enforced`).
    private func act(_ e: ExecEvent, _ v: Verdict) -> String {
        if e.killedInKernel { return "killed" }
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
            if e.held { resume(e.pid) }
            return v.action == .alert ? "alerted" : "allowed"
        case .kill:
            kill(e.pid, SIGKILL)  // the kernel forgets the hold when it exits
            return e.held ? "killed" : "killed-late"
        case .stop:
            if !e.held { kill(e.pid, SIGSTOP) }
            stopped[e.pid] = v.matched ?? e.argvStrings.joined(separator: " ")
            return e.held ? "stopped" : "stopped-late"
        }
    }

    private func resume(_ pid: Int32) { bpf.resume(pid) }

    /// What went wrong without stopping the guard since the last call, for the session to say.
    public func takeWarnings() -> [String] {
        defer { warnings.removeAll() }
        return warnings
    }

    /// A process exited: forget it.
    public func exited(_ pid: Int32) {
        contexts[pid] = nil
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

    /// Carries out `claude-guard resume|kill PID` requests; returns (pid, "resumed"|"killed").
    public func serveRequests() -> [(Int32, String)] {
        guard !stopped.isEmpty else { return [] }
        var done: [(Int32, String)] = []
        for name in ProcFS.entries(of: requestDir) {
            let parts = name.split(separator: "-")
            guard parts.count == 2, let pid = Int32(parts[1]), stopped[pid] != nil else { continue }
            if parts[0] == "resume" || parts[0] == "kill" {
                decideStopped(pid, allow: parts[0] == "resume")
                done.append((pid, parts[0] == "resume" ? "resumed" : "killed"))
            }
            unlink(requestDir + "/" + name)
        }
        return done
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

    func removeRequestDir() {
        for name in ProcFS.entries(of: requestDir) { unlink(requestDir + "/" + name) }
        rmdir(requestDir)
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
