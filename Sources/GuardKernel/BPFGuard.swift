import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

extension FileIdentity {
    init(_ k: cg_file_key) {
        self.init(device: k.dev, inode: k.ino, ctimeSec: k.ctime_sec, ctimeNsec: k.ctime_nsec)
    }
}

/// A record from the kernel, decoded.
public enum KernelEvent {
    case exec(ExecEvent)
    case exit(ExitEvent)
    case file(FileEvent)
    case ptrace(PtraceEvent)
    case bash(BashLineEvent)
}

/// What the kernel does with execs of the tracked trees.
public struct KernelConfig: Sendable {
    /// Signal at all; false is audit mode (report only).
    public var enforce = false
    /// Attach the failed-exec programs (-x).
    public var fails = false
    /// Verdict for executables the `verdicts` map does not name.
    public var defaultVerdict: KernelVerdict = .pass
    /// Verdict when a hold cannot be reported (ring buffer full): on_timeout's action.
    public var unreportedVerdict: KernelVerdict = .kill
    /// Load the file-call programs (the policy has file rules, or --files).
    public var files = false
    /// --files: report every file call of the tree.
    public var filesAll = false
    /// Verdict for a tracked task attaching to (or writing the memory of) an untracked process.
    public var ptraceVerdict: KernelVerdict = .pass
    /// Load the readline probe: lines typed into interactive bash shells of the tree (-B turns it off).
    public var bash = true
    /// Kernel BTF to relocate against (CLAUDE_GUARD_BTF); nil: /sys/kernel/btf/vmlinux.
    public var btfPath: String? = getenv("CLAUDE_GUARD_BTF").map { String(cString: $0) }
    /// Entries of the kernel's `tracked` and `held` maps; 0 keeps the object's sizes (65536 and 8192).
    public var trackedMax: UInt32 = KernelConfig.testMapSize("CLAUDE_GUARD_TEST_TRACKED_MAX")
    public var heldMax: UInt32 = KernelConfig.testMapSize("CLAUDE_GUARD_TEST_HELD_MAX")
    /// Daemon mode: untracked tasks that match the watch list (`WatchList`) become new roots at exec.
    public var watch = false
    /// Judge the tree's signals to the guard's own processes (`settings.tamper` is not allow), and what the sender
    /// gets: `.kill` or `.pass` (alert).
    public var tamper = false
    public var tamperVerdict: KernelVerdict = .pass

    /// A map size the tests set to fill a map on purpose (debug builds only; 0 in a release build).
    static func testMapSize(_ variable: String) -> UInt32 {
        #if DEBUG
            return getenv(variable).flatMap { UInt32(String(cString: $0)) } ?? 0
        #else
            return 0
        #endif
    }

    public init(
        enforce: Bool = false, fails: Bool = false, defaultVerdict: KernelVerdict = .pass,
        unreportedVerdict: KernelVerdict = .kill
    ) {
        self.enforce = enforce
        self.fails = fails
        self.defaultVerdict = defaultVerdict
        self.unreportedVerdict = unreportedVerdict
    }
}

/// The kernel's verdicts (enum cg_verdict in bpf/claude_guard.h).
public enum KernelVerdict: UInt32, Sendable {
    case pass = 0  // CG_VERDICT_PASS
    case hold = 1  // CG_VERDICT_HOLD
    case kill = 2  // CG_VERDICT_KILL
}

/// Owns the loaded BPF object and its ring buffer; frees both (ring buffer first) in deinit.
///
/// Not thread-safe: one thread loads, polls and handles events.
public final class BPFGuard {
    let bpf: OpaquePointer
    /// Called for each decoded record, on the polling thread.
    public var onEvent: (KernelEvent) -> Void = { _ in }
    /// CLOCK_REALTIME − CLOCK_MONOTONIC, to turn kernel timestamps into wall time.
    private let wallOffsetNs: Int64
    /// The counters as last returned by `newlyCounted`.
    private var reported = [UInt64](repeating: 0, count: Int(CG_STAT_MAX.rawValue))

    /// Loads and attaches the programs.
    ///
    /// - Throws: `GuardError` (privileges, BTF, verifier log, attach failure).
    public init(config: KernelConfig) throws {
        try Privileges.check(btfPath: config.btfPath ?? "/sys/kernel/btf/vmlinux")
        var handle: OpaquePointer?
        let err = Self.withOptionalCString(config.btfPath) { btf in
            var cfg = cg_config(
                enforce: config.enforce, fails: config.fails, default_verdict: config.defaultVerdict.rawValue,
                unreported_verdict: config.unreportedVerdict.rawValue, btf_path: btf, files: config.files,
                files_all: config.filesAll, ptrace_verdict: config.ptraceVerdict.rawValue, bash: config.bash,
                tracked_max: config.trackedMax, held_max: config.heldMax, watch: config.watch, tamper: config.tamper,
                tamper_verdict: config.tamperVerdict.rawValue)
            return cg_bpf_load(&cfg, &handle)
        }
        guard err == 0, let handle else {
            let log = String(cString: cg_bpf_last_log())
            if err == -EPERM && geteuid() != 0 { throw GuardError.missingPrivileges(euid: geteuid()) }
            if err == -ENOSYS || (err == -EPERM && !log.contains("processed")) {
                throw GuardError.bpfUnavailable(errno: -err)
            }
            throw GuardError.loadFailed(errno: -err, log: log)
        }
        bpf = handle
        wallOffsetNs = Self.clockNs(CLOCK_REALTIME) - Self.clockNs(CLOCK_MONOTONIC)
        // From here on deinit frees the object (it runs when init throws): no destroy on these paths.
        let attached = cg_bpf_attach(bpf)
        if attached != 0 {
            throw GuardError.attachFailed(errno: -attached, log: String(cString: cg_bpf_last_log()))
        }
        try syscall("create the ring buffer") {
            cg_bpf_open_ringbuf(
                bpf,
                { ctx, data, size in
                    guard let ctx, let data else { return 0 }
                    Unmanaged<BPFGuard>.fromOpaque(ctx).takeUnretainedValue().handle(UnsafeRawPointer(data), size)
                    return 0
                }, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    /// Calls body with a C string of `s`, or NULL when s is nil.
    private static func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let s else { return body(nil) }
        return s.withCString(body)
    }

    deinit {
        if let j = jobTracer {
            close(j.sock)  // the tracer leaves; a tracee still parked is killed by the kernel (EXITKILL)
            waitpid(j.pid, nil, 0)
        }
        if let w = watchdog {
            cg_watchdog_release(w.fd)  // a goodbye: the watchdog leaves without acting
            waitpid(w.pid, nil, 0)
        }
        cg_bpf_destroy(bpf)
    }

    /// The loaded object, for the daemon's watch list (`WatchList`).
    var handle: OpaquePointer { bpf }

    /// Adds a process to the tracked set under root; `landlocked`: the cg_access bits Landlock refuses there.
    public func track(_ pid: Int32, root: Int32, landlocked: UInt32 = 0) throws(GuardError) {
        try syscall("track pid \(pid)") {
            cg_bpf_track(bpf, UInt32(bitPattern: pid), UInt32(bitPattern: root), landlocked)
        }
    }

    /// Tracked processes under root (all roots when nil), at most `limit`.
    public func tracked(root: Int32? = nil, limit: Int = 65536) -> [Int32] {
        var buf = [UInt32](repeating: 0, count: limit)
        let n = cg_bpf_tracked(bpf, UInt32(bitPattern: root ?? 0), &buf, Int32(buf.count))
        return buf.prefix(Int(max(0, n))).map { Int32(bitPattern: $0) }
    }

    /// Whether any process under root is still tracked (stops at the first).
    ///
    /// A tracked PID whose process is gone (it exited between a /proc scan and being tracked, so the kernel
    /// never saw its exit) is forgotten here, or the tree would never be seen to end.
    public func tracksAny(root: Int32) -> Bool {
        for pid in tracked(root: root) {
            if kill(pid, 0) == 0 || errno != ESRCH { return true }
            cg_bpf_untrack(bpf, UInt32(bitPattern: pid))
        }
        return false
    }

    /// Sets the kernel verdict for an executable file identity.
    public func setVerdict(_ file: FileIdentity, _ verdict: KernelVerdict) throws(GuardError) {
        var key = cg_file_key(
            dev: file.device, ino: file.inode, ctime_sec: file.ctimeSec, ctime_nsec: file.ctimeNsec, pad: 0)
        try syscall("set a kernel verdict") { cg_bpf_set_verdict(bpf, &key, verdict.rawValue) }
    }

    /// Lets execs of a held file whose argv has none of `words` (after argv[0]), exec'd by one of `names`, pass in
    /// the kernel (`Policy.holdWords`). Too many words or names set nothing: every exec stays held.
    public func setHoldWords(_ file: FileIdentity, words: [String], names: [String]) throws(GuardError) {
        guard words.count <= Int(CG_HOLD_WORDS_MAX), names.count <= Int(CG_HOLD_NAMES_MAX) else { return }
        var key = cg_file_key(
            dev: file.device, ino: file.inode, ctime_sec: file.ctimeSec, ctime_nsec: file.ctimeNsec, pad: 0)
        var v = cg_hold_words()
        v.words = UInt32(words.count)
        v.names = UInt32(names.count)
        withUnsafeMutableBytes(of: &v.word) { b in
            for (i, w) in words.enumerated() { b.storeBytes(of: Self.fnv1a(w), toByteOffset: i * 8, as: UInt64.self) }
        }
        withUnsafeMutableBytes(of: &v.name) { b in
            for (i, n) in names.enumerated() { b.storeBytes(of: Self.fnv1a(n), toByteOffset: i * 8, as: UInt64.self) }
        }
        try syscall("set a program's hold words") { cg_bpf_set_hold_words(bpf, &key, &v) }
    }

    /// 64-bit FNV-1a of a word's bytes, as the kernel hashes argv words (claude_guard_words.bpf.h).
    static func fnv1a(_ s: String) -> UInt64 {
        var h = CG_FNV_BASIS
        for c in s.utf8 { h = (h ^ UInt64(c)) &* CG_FNV_PRIME }
        return h
    }

    /// Starts the watchdog that resolves held processes if this process dies (even by SIGKILL).
    public func startWatchdog(killHeld: Bool) throws(GuardError) {
        var alive: Int32 = -1
        let pid = try syscall("start the watchdog") { cg_bpf_start_watchdog(bpf, killHeld, &alive) }
        watchdog = (pid, alive)
    }

    /// Resolves every held process now: SIGKILL, or resume. Returns how many.
    @discardableResult
    public func releaseAll(kill: Bool) -> Int {
        // A tracee of the job-control tracer ignores SIGCONT while parked: it is let go by the tracer.
        let traced = kill || jobTracer == nil ? 0 : held().filter { resumeTraced($0.pid) }.count
        return traced + Int(cg_bpf_release_all(bpf, kill))
    }

    /// Starts the job-control tracer (jobtrace.c): holds in interactive shells it seizes are ptrace stops the
    /// shell never sees (issue 12, class 8).
    public func startJobTracer() throws(GuardError) {
        var sock: Int32 = -1
        let pid = try syscall("start the job-control tracer") { cg_jc_start(bpf, &sock) }
        jobTracer = (pid, sock)
    }

    private var jobTracer: (pid: Int32, sock: Int32)?

    /// Names the guard's own processes to the kernel (this one, the watchdog, the job-control tracer), before the
    /// tree starts: the tree's signals to them are judged by `settings.tamper` (issue 12, class 7).
    public func protectGuardProcesses() {
        let pids = [getpid(), watchdog?.pid, jobTracer?.pid].compactMap { $0 }.map { UInt32($0) }
        _ = pids.withUnsafeBufferPointer { cg_bpf_set_guard_procs(bpf, $0.baseAddress, Int32($0.count)) }
    }

    /// The guard's own process `pid` is: "claude-guard", "watchdog", "job tracer", or nil.
    public func guardProcessName(_ pid: Int32) -> String? {
        if pid == getpid() { return "claude-guard" }
        if pid == watchdog?.pid { return "watchdog" }
        if pid == jobTracer?.pid { return "job tracer" }
        return nil
    }
    /// Whether the job-control tracer runs (enforce mode).
    public var tracesJobShells: Bool { jobTracer != nil }
    /// Shells of the tree the job-control tracer keeps traced when it lets them go after a hold.
    private var jobShells: Set<Int32> = []

    /// Has the job-control tracer trace an interactive shell (held at its exec, or already its tracee); returns
    /// the errno when it cannot (EPERM: someone else traces it), nil when it does.
    public func traceJobShell(_ pid: Int32) -> Int32? {
        guard let j = jobTracer else { return ENOSYS }
        let err = cg_jc_seize(j.sock, pid)
        if err != 0 { return -err }
        jobShells.insert(pid)
        return nil
    }

    /// Whether a process is traced by the job-control tracer (its execs are not "traced" ones, class 3: the
    /// tracer writes nothing into them). Read while the process is held, so the tracer cannot change.
    public func tracedByJobTracer(_ pid: Int32) -> Bool {
        guard let j = jobTracer, let status = ProcFS.read("/proc/\(pid)/status") else { return false }
        let line = status.split(separator: "\n").first { $0.hasPrefix("TracerPid:") }
        return line.flatMap { Int32(String($0.dropFirst(10).filter { $0 != " " && $0 != "\t" })) } == j.pid
    }

    /// A traced process exec'd something that is not a job-control shell: it is detached once let go.
    public func forgetJobShell(_ pid: Int32) { jobShells.remove(pid) }

    /// Lets a held tracee of the job-control tracer go (without its SIGSTOP); false if it is not one.
    private func resumeTraced(_ pid: Int32) -> Bool {
        guard let j = jobTracer else { return false }
        return cg_jc_resume(j.sock, pid, jobShells.contains(pid)) == 0
    }

    private var watchdog: (pid: Int32, fd: Int32)?

    /// Tells the watchdog the root of the tree `run` launched: it is killed whole if the guard is lost.
    ///
    /// - Throws: `GuardError.system` when the watchdog cannot be told (the tree would outlive a lost guard).
    public func watchdogGuards(root: Int32) throws {
        guard let w = watchdog else { return }
        try syscall("tell the watchdog the command's PID") { cg_watchdog_tell_root(w.fd, UInt32(bitPattern: root)) }
    }

    /// Called with a held process's PID after the hold is forgotten and before SIGCONT (the session settles
    /// its parent: HoldShadow.settle).
    public var beforeResume: ((Int32) -> Void)?

    /// Lets a held process run: forgets the hold first (or the resume guard would kill it), then SIGCONT. In
    /// between (its parent settles, up to 20 ms) the process is in no map: the watchdog is told, so a guard lost
    /// then does not leave it stopped for ever.
    public func resume(_ pid: Int32) {
        // A tracee of the job-control tracer: it forgets the hold and continues it; nobody else saw it stop.
        if resumeTraced(pid) { return }
        cg_bpf_set_resuming(bpf, UInt32(bitPattern: pid))
        unhold(pid)
        beforeResume?(pid)
        kill(pid, SIGCONT)
        cg_bpf_set_resuming(bpf, 0)
    }

    /// Forgets a held process so it may run; true if it was held.
    @discardableResult
    public func unhold(_ pid: Int32) -> Bool { cg_bpf_unhold(bpf, UInt32(bitPattern: pid)) == 0 }

    /// Processes held right now, with the monotonic time they were held.
    public func held() -> [(pid: Int32, sinceNs: UInt64)] {
        var pids = [UInt32](repeating: 0, count: 8192)
        var since = [UInt64](repeating: 0, count: 8192)
        let n = cg_bpf_held(bpf, &pids, &since, Int32(pids.count))
        return (0..<Int(max(0, n))).map { (Int32(bitPattern: pids[$0]), since[$0]) }
    }

    /// The kernel's counters (enum cg_stat).
    ///
    /// - Throws: `GuardError.system` when the per-CPU map cannot be read.
    public func stats() throws(GuardError) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: Int(CG_STAT_MAX.rawValue))
        try syscall("read the kernel's counters") { cg_bpf_stats(bpf, &out) }
        return out
    }

    /// What the kernel counted since the last call and the session has to report: records it could not
    /// submit, forks it could not track (the child was killed when enforcing), holds it had no room for
    /// (decided as on_timeout).
    ///
    /// - Throws: `GuardError.system` when the counters cannot be read.
    public func newlyCounted() throws(GuardError) -> (lost: UInt64, untracked: UInt64, unheld: UInt64) {
        let now = try stats()
        defer { reported = now }
        func delta(_ s: cg_stat) -> UInt64 { now[Int(s.rawValue)] &- reported[Int(s.rawValue)] }
        return (delta(CG_STAT_LOST), delta(CG_STAT_UNTRACKED), delta(CG_STAT_UNHELD))
    }

    /// Spin on the ring buffer this long after each record before sleeping (trades CPU for hold latency).
    public func setBusyPoll(microseconds: Int) { cg_bpf_set_busy_poll(bpf, microseconds) }

    /// The first failure to read the ring buffer (other than EINTR): from then on the guard sees nothing of the
    /// tree, and the session ends it (fail closed).
    public private(set) var pollFailure: GuardError?

    /// Polls the ring buffer, handling records; returns how many, or -errno (kept in `pollFailure`).
    @discardableResult
    public func poll(timeoutMs: Int32) -> Int32 {
        let n = cg_bpf_poll(bpf, timeoutMs)
        if n < 0 && n != -EINTR && pollFailure == nil {
            pollFailure = .system(what: "read the kernel's ring buffer", errno: -n)
        }
        return n
    }

    public func wallTime(monotonicNs: UInt64) -> WallTime {
        let ns = Int64(bitPattern: monotonicNs) &+ wallOffsetNs
        return WallTime(seconds: ns / 1_000_000_000, micros: Int32((ns % 1_000_000_000) / 1000))
    }

    public static func clockNs(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    // MARK: decoding

    private func handle(_ data: UnsafeRawPointer, _ size: Int) {
        guard size >= MemoryLayout<cg_header>.size else { return }
        let type = data.load(as: UInt32.self)
        switch type {
        case UInt32(CG_EVENT_EXEC.rawValue), UInt32(CG_EVENT_EXEC_FAILED.rawValue):
            if let e = decodeExec(data, size) { onEvent(.exec(e)) }
        case UInt32(CG_EVENT_EXIT.rawValue):
            guard size >= MemoryLayout<cg_exit_event>.size else { return }
            let x = data.load(as: cg_exit_event.self)
            let comm = Self.cString(data + Self.offset(of: \cg_exit_event.comm), max: Int(CG_COMM_LEN))
            onEvent(
                .exit(
                    ExitEvent(
                        pid: Int32(bitPattern: x.hdr.pid), ppid: Int32(bitPattern: x.ppid),
                        root: Int32(bitPattern: x.root), comm: comm, rawStatus: x.exit_code,
                        durationNs: x.hdr.ktime_ns &- x.start_ns, time: wallTime(monotonicNs: x.hdr.ktime_ns))))
        case UInt32(CG_EVENT_FILE.rawValue):
            if let e = decodeFile(data, size) { onEvent(.file(e)) }
        case UInt32(CG_EVENT_PTRACE.rawValue):
            guard size >= MemoryLayout<cg_ptrace_event>.size else { return }
            let p = data.load(as: cg_ptrace_event.self)
            let op: PtraceEvent.Op? =
                switch p.op {
                case UInt32(CG_PT_ATTACH.rawValue): .attach
                case UInt32(CG_PT_SEIZE.rawValue): .seize
                case UInt32(CG_PT_VM_WRITE.rawValue): .vmWrite
                case UInt32(CG_PT_PROC_MEM.rawValue): .procMem
                case UInt32(CG_PT_SIGNAL.rawValue): .signal
                default: nil
                }
            guard let op else { return }
            func has(_ f: cg_ptrace_flags) -> Bool { p.flags & UInt32(f.rawValue) != 0 }
            onEvent(
                .ptrace(
                    PtraceEvent(
                        op: op, pid: Int32(bitPattern: p.hdr.pid), ppid: Int32(bitPattern: p.ppid), uid: p.uid,
                        root: Int32(bitPattern: p.root),
                        comm: Self.cString(data + cg_ptrace_offset_comm(), max: Int(CG_COMM_LEN)), target: p.target,
                        targetProcess: Int32(bitPattern: p.target_tgid),
                        targetComm: Self.cString(data + cg_ptrace_offset_target_comm(), max: Int(CG_COMM_LEN)),
                        targetTracked: has(CG_PTF_TRACKED), targetExeced: has(CG_PTF_EXECED),
                        targetKilled: has(CG_PTF_TARGET_KILLED), adopted: has(CG_PTF_ADOPTED),
                        targetWasStopped: has(CG_PTF_TARGET_STOPPED), killedInKernel: has(CG_PTF_KILLED),
                        held: has(CG_PTF_HELD), signal: Int32(bitPattern: p.sig), group: has(CG_PTF_GROUP),
                        guardContinued: has(CG_PTF_CONTINUE), monotonicNs: p.hdr.ktime_ns,
                        time: wallTime(monotonicNs: p.hdr.ktime_ns))))
        case UInt32(CG_EVENT_BASH.rawValue):
            if let e = decodeBash(data, size) { onEvent(.bash(e)) }
        default:
            break
        }
    }

    private func decodeFile(_ data: UnsafeRawPointer, _ size: Int) -> FileEvent? {
        typealias E = cg_file_event
        guard size >= cg_file_event_size() else { return nil }
        func field<T>(_ path: KeyPath<E, T>, _: T.Type) -> T {
            data.load(fromByteOffset: Self.offset(of: path), as: T.self)
        }
        func bytes(_ offset: Int, _ count: Int) -> [UInt8] {
            Array(UnsafeRawBufferPointer(start: data + offset, count: max(0, count)))
        }
        guard let op = FileEvent.Op(rawValue: field(\.op, UInt32.self)) else { return nil }
        let hdr = field(\.hdr, cg_header.self)
        let pathMax = Int(CG_PATH_MAX)
        let off = min(Int(field(\.path_off, UInt16.self)), pathMax)
        let flags = field(\.flags, UInt32.self)
        func has(_ f: cg_file_flags) -> Bool { flags & UInt32(f.rawValue) != 0 }
        let n1 = min(Int(field(\.name_len, UInt16.self)), Int(CG_FSTR_MAX) - 1)
        let n2 = min(Int(field(\.name2_len, UInt16.self)), Int(CG_FSTR_MAX) - 1)
        let rule = field(\.rule, UInt32.self)
        let action = field(\.action, UInt32.self)
        return FileEvent(
            op: op, pid: Int32(bitPattern: hdr.pid), ppid: Int32(bitPattern: field(\.ppid, UInt32.self)),
            uid: field(\.uid, UInt32.self), root: Int32(bitPattern: field(\.root, UInt32.self)),
            comm: Self.cString(data + cg_file_offset_comm(), max: Int(CG_COMM_LEN)),
            access: FileAccess.from(bits: field(\.access, UInt32.self)), ret: field(\.ret, Int32.self),
            openFlags: field(\.open_flags, UInt32.self), path: bytes(cg_file_offset_path() + off, pathMax - off),
            name: has(CG_FF_RELATIVE) ? bytes(cg_file_offset_name(), n1) : [],
            name2: op == .rename || op == .link || op == .symlink ? bytes(cg_file_offset_name2(), n2) : nil,
            relative: has(CG_FF_RELATIVE),
            kernelRule: rule > 0 && action != UInt32(CG_FACT_ASK.rawValue) ? Int(rule) - 1 : nil,
            held: has(CG_FF_HELD), killedInKernel: has(CG_FF_KILLED), created: has(CG_FF_CREATED),
            monotonicNs: hdr.ktime_ns, time: wallTime(monotonicNs: hdr.ktime_ns))
    }

    private func decodeBash(_ data: UnsafeRawPointer, _ size: Int) -> BashLineEvent? {
        typealias E = cg_bash_event
        let head = cg_bash_offset_line()
        guard size >= head else { return nil }
        func field<T>(_ path: KeyPath<E, T>, _: T.Type) -> T {
            // Every key path here names a stored field of the C struct, which always has an offset.
            guard let offset = MemoryLayout<E>.offset(of: path) else { preconditionFailure("\(path) is no field") }
            return data.load(fromByteOffset: offset, as: T.self)
        }
        let hdr = field(\.hdr, cg_header.self)
        let flags = field(\.flags, UInt32.self)
        let lineLen = min(Int(field(\.line_len, UInt32.self)), size - head, Int(CG_BASH_LINE_MAX))
        let cwdOff = Int(field(\.cwd_off, UInt16.self))
        let pathMax = Int(CG_PATH_MAX)
        let cwd =
            cwdOff < pathMax
            ? Array(UnsafeRawBufferPointer(start: data + cg_bash_offset_cwd() + cwdOff, count: pathMax - cwdOff))
            : nil
        var e = BashLineEvent(
            pid: Int32(bitPattern: hdr.pid), ppid: Int32(bitPattern: field(\.ppid, UInt32.self)),
            uid: field(\.uid, UInt32.self), root: Int32(bitPattern: field(\.root, UInt32.self)),
            comm: Self.cString(data + cg_bash_offset_comm(), max: Int(CG_COMM_LEN)),
            tty: BashLineEvent.ttyName(
                Self.cString(data + cg_bash_offset_tty(), max: Int(CG_TTY_NAME)), index: field(\.tty_index, Int32.self)),
            cwd: cwd, line: Array(UnsafeRawBufferPointer(start: data + head, count: max(0, lineLen))),
            truncated: flags & UInt32(CG_BASH_TRUNCATED.rawValue) != 0,
            held: flags & UInt32(CG_BASH_HELD.rawValue) != 0,
            killedInKernel: flags & UInt32(CG_BASH_KILLED.rawValue) != 0,
            monotonicNs: hdr.ktime_ns, time: wallTime(monotonicNs: hdr.ktime_ns))
        e.lineAddress = field(\.line_addr, UInt64.self)
        return e
    }

    private func decodeExec(_ data: UnsafeRawPointer, _ size: Int) -> ExecEvent? {
        typealias E = cg_exec_event
        let head = cg_exec_offset_argv()
        guard size >= head else { return nil }
        func field<T>(_ path: KeyPath<E, T>, _: T.Type) -> T {
            data.load(fromByteOffset: Self.offset(of: path), as: T.self)
        }
        let hdr = field(\.hdr, cg_header.self)
        let flags = field(\.flags, UInt32.self)
        let argvLen = min(Int(field(\.argv_len, UInt32.self)), size - head, Int(CG_ARGV_MAX))
        let filenameLen = min(Int(field(\.filename_len, UInt16.self)), Int(CG_FILENAME_MAX))
        let pathOff = Int(field(\.path_off, UInt16.self))
        let cwdOff = Int(field(\.cwd_off, UInt16.self))
        let pathMax = Int(CG_PATH_MAX)

        func bytes(_ offset: Int, _ count: Int) -> [UInt8] {
            Array(UnsafeRawBufferPointer(start: data + offset, count: max(0, count)))
        }
        let filename = bytes(cg_exec_offset_filename(), filenameLen)
        var path: [UInt8] = []
        var cwd: [UInt8]? = nil
        let failed = hdr.type == UInt32(CG_EVENT_EXEC_FAILED.rawValue)
        if !failed {
            if pathOff < pathMax { path = bytes(cg_exec_offset_path() + pathOff, pathMax - pathOff) }
            if flags & UInt32(CG_FLAG_DELETED.rawValue) != 0 { path += Array(" (deleted)".utf8) }
            if cwdOff < pathMax { cwd = bytes(cg_exec_offset_cwd() + cwdOff, pathMax - cwdOff) }
        }
        // argv: NUL-separated; a trailing NUL ends the last argument.
        var argv: [[UInt8]] = []
        let raw = UnsafeRawBufferPointer(start: data + head, count: argvLen)
        var start = 0
        for i in 0..<argvLen where raw[i] == 0 {
            argv.append(Array(raw[start..<i]))
            start = i + 1
        }
        if start < argvLen { argv.append(Array(raw[start..<argvLen])) }
        let ugid = (field(\.uid, UInt32.self), field(\.gid, UInt32.self))
        var event = ExecEvent(
            kind: failed ? .failed(errno: -field(\.ret, Int32.self)) : .exec,
            pid: Int32(bitPattern: hdr.pid), ppid: Int32(bitPattern: field(\.ppid, UInt32.self)),
            uid: ugid.0, gid: ugid.1, root: Int32(bitPattern: field(\.root, UInt32.self)),
            comm: Self.cString(data + cg_exec_offset_comm(), max: Int(CG_COMM_LEN)),
            filename: filename, path: path, cwd: cwd, argv: argv,
            truncated: flags & UInt32(CG_FLAG_ARGV_TRUNCATED.rawValue) != 0,
            cgroupID: field(\.cgroup_id, UInt64.self), file: FileIdentity(field(\.file, cg_file_key.self)),
            monotonicNs: hdr.ktime_ns, time: wallTime(monotonicNs: hdr.ktime_ns),
            held: flags & UInt32(CG_FLAG_HELD.rawValue) != 0,
            killedInKernel: flags & UInt32(CG_FLAG_KILLED.rawValue) != 0)
        if !failed {
            event.traced = flags & UInt32(CG_FLAG_TRACED.rawValue) != 0
            event.loaderEnvCut = flags & UInt32(CG_FLAG_LOADER_ENV_TRUNCATED.rawValue) != 0
            let envLen = min(Int(field(\.loader_env_len, UInt16.self)), Int(CG_LOADER_ENV_MAX))
            event.loaderEnv = bytes(cg_exec_offset_loader_env(), envLen).split(separator: 0).map { Array($0) }
        }
        return event
    }

    /// The byte offset of a field of a record (a stored field of a C struct always has one).
    private static func offset<E, T>(of field: KeyPath<E, T>) -> Int {
        guard let offset = MemoryLayout<E>.offset(of: field) else { preconditionFailure("\(field) is not stored") }
        return offset
    }

    private static func cString(_ p: UnsafeRawPointer, max: Int) -> [UInt8] {
        let buf = UnsafeRawBufferPointer(start: p, count: max)
        return Array(buf.prefix(while: { $0 != 0 }))
    }
}
