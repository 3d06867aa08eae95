import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a guard session is told by the command line.
public struct SessionOptions {
    public typealias Format = OutputFormat

    public var format: Format = .text
    public var text = TextOptions()
    /// -o: every event as JSON Lines.
    public var outputPath: String?
    /// --violations: only violations, JSON Lines, appended.
    public var violationsPath: String?
    /// -x: report failed execs.
    public var fails = false
    /// -n: only commands whose comm matches.
    public var nameFilter: String?
    /// -l: only commands whose argument line matches.
    public var lineFilter: String?
    /// -u: only this uid.
    public var uidFilter: UInt32?
    /// -P: only children of this PPID.
    public var ppidFilter: Int32?
    /// --duration: stop after this many seconds.
    public var duration: Double?
    /// run: seconds between SIGTERM and SIGKILL for leftover descendants.
    public var grace: Double = 2
    /// run: keep guarding descendants that outlive the command instead of terminating them.
    public var keepDescendants = false
    /// No "guarding ..." line on stderr.
    public var quiet = false
    /// `${workspace}` (default: the guarded root's working directory).
    public var workspace: String?
    /// --audit: signal nothing, log what would be done.
    public var audit = false
    /// --report: a JSON summary (counts per rule, the violations).
    public var reportPath: String?
    /// --junit: JUnit XML, one test case per rule.
    public var junitPath: String?
    /// --busy-poll: µs to spin on the ring buffer after each record (0: sleep at once).
    public var busyPollUs = 0
    /// Ask y/N on the terminal for each `stop` verdict (`-p` mode with a TTY on stdin).
    public var prompt = false
    /// --files: print and log every file call of the tree (opensnoop's view), not only file violations.
    public var files = false
    /// -S: no HTTPS capture (claude_trace's flag).
    public var noSSL = false
    /// -B: no bash events (claude_trace's flag): lines typed into an interactive bash are not probed.
    public var noBash = false
    /// --capture-bodies: keep request and response bodies and the model's text in the traffic events.
    public var captureBodies = false
    /// No terminal to ask about a `stop` (stdin is not one): a stopped process gets on_timeout after
    /// hold_timeout_ms instead of waiting for `claude-guard resume|kill`.
    public var noTerminal = false
    /// --fail-on, --fail-on-severity: which violations make the exit status 3.
    public var failOn = FailCriteria()
    /// -c: only show commands of processes in this cgroup v2 directory or below it.
    public var cgroupFilter: String?
    /// -p: also guard every process of the PID's session (daemons it started before attach).
    public var session = false
    /// -p: also guard every process of this cgroup v2 directory (and below it).
    public var cgroupPath: String?
    /// --otlp: export every logged record to an OpenTelemetry Collector.
    public var otlp: OTLPConfig?

    public init() {}
}

/// One guard session: loads the programs, tracks the tree, prints events, decides, summarises.
public final class GuardSession {
    let options: SessionOptions
    let guardBPF: BPFGuard
    let stdout = OutputFile()
    let jsonFile: OutputFile?
    let violationsFile: OutputFile?
    let formatter: TextFormatter
    let nameRegex: SearchRegex?
    let lineRegex: SearchRegex?
    var summary = Summary()
    let startNs: UInt64
    var writer = JSONWriter(capacity: 4096)
    let enforcer: Enforcer
    /// Exec-to-verdict times of held execs (for the summary).
    var decisionNs: [UInt64] = []
    /// Every violation, for --report and --junit.
    var violations: [(ExecEvent, Violation)] = []
    /// Every file violation, for the summary, --report and --junit.
    var fileViolations: [(FileEvent, Violation)] = []
    /// Every ptrace violation (settings.ptrace), for the summary, --report and --junit.
    var ptraceViolations: [(PtraceEvent, Violation)] = []
    let policy: Policy
    let audit: Bool
    /// File rules on the kernel side; made once the workspace is known.
    var fileGuard: FileGuard?
    /// The cgroup of the tree `run` launched (its end is a race-free `cgroup.kill`), when cgroup v2 is there.
    var cgroup: RunCgroup?
    /// Continues a parent that stopped itself because its child was held.
    let holdShadow = HoldShadow()
    /// HTTPS capture, the hook's announcements and the tool_use link of every exec.
    var intent: Intent?
    /// The readline probe of interactive bash shells (nil with -B).
    var bashProbe: BashProbe?
    /// Every violation of a line typed into an interactive bash, for the summary, --report and --junit.
    var bashViolations: [(BashLineEvent, Violation)] = []
    /// The tool use each violating process ran for, for --report.
    var toolUseOf: [Int32: String] = [:]
    /// The file each live process exec'd by name (a script, not its interpreter), for file rules' `process`.
    var programOf: [Int32: String] = [:]
    /// --report and --junit, opened (and emptied) at start like -o, written at the end.
    let reportFile: OutputFile?
    let junitFile: OutputFile?
    /// Violations an exec repeats from the shell or wrapper that carried its command: counted once.
    var carried = CarriedViolations()
    /// Processes left stopped, and what becomes of them.
    let stops: StoppedProcesses
    /// -c: the cgroup ids of the directory and those below it (rescanned for an id not seen before).
    var cgroupIDs: Set<UInt64> = []
    var cgroupMisses: Set<UInt64> = []
    /// --otlp: every record logged also goes to the collector.
    let otlp: OTLPExporter?
    /// The kernel's counters could not be read (said once).
    private var countersFailed = false

    /// Loads and attaches everything; nothing is tracked yet.
    ///
    /// - Throws: `GuardError`, or a regex error for -n/-l.
    public init(options: SessionOptions, policy: Policy) throws {
        self.options = options
        nameRegex = try options.nameFilter.map { try SearchRegex($0) }
        lineRegex = try options.lineFilter.map { try SearchRegex($0) }
        jsonFile = try options.outputPath.map { try OutputFile(appendingTo: $0, truncate: true) }
        violationsFile = try options.violationsPath.map { try OutputFile(appendingTo: $0) }
        reportFile = try options.reportPath.map { try OutputFile(appendingTo: $0, truncate: true) }
        junitFile = try options.junitPath.map { try OutputFile(appendingTo: $0, truncate: true) }
        cg_install_stop_handlers()
        let audit = options.audit || policy.mode == .audit
        otlp = options.otlp.map {
            OTLPExporter(config: $0, resource: OTLPResourceInfo(policy: policy.name, mode: audit ? "audit" : "enforce"))
        }
        self.policy = policy
        self.audit = audit
        var k = Enforcer.kernelConfig(policy: policy, audit: audit)
        k.fails = options.fails
        k.files = options.files || !policy.fileRules.isEmpty
        k.filesAll = options.files
        k.bash = !options.noBash
        guardBPF = try BPFGuard(config: k)
        guardBPF.setBusyPoll(microseconds: options.busyPollUs)
        do {
            // Before the watchdog: it keeps the system bash's probe, so a shell of the tree is still held (and
            // gets on_timeout) if the guard is lost.
            bashProbe = try BashProbe(guardBPF: guardBPF)
        } catch {
            if !options.quiet { FileHandleStderr.write("claude-guard: warning: bash lines are not seen: \(error)\n") }
        }
        if !audit {
            try guardBPF.startWatchdog(killHeld: policy.onTimeout != .allow)
            try guardBPF.startJobTracer()
        }
        // Before the tree starts: its signals to these processes are judged (settings.tamper).
        guardBPF.protectGuardProcesses()
        enforcer = try Enforcer(policy: policy, audit: audit, workspace: options.workspace, bpf: guardBPF)
        stops = StoppedProcesses(enforcer: enforcer, prompt: options.prompt, noTerminal: options.noTerminal)
        if let dir = options.cgroupFilter { cgroupIDs = CgroupIDs.under(dir) }
        // After the watchdog: it must not hold the probes' links.
        let intent = Intent(
            guardBPF: guardBPF, btfPath: k.btfPath, capture: !options.noSSL, captureBodies: options.captureBodies)
        for n in intent.notes where !options.quiet { FileHandleStderr.write("claude-guard: warning: \(n)\n") }
        self.intent = intent
        startNs = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
        formatter = TextFormatter(options: options.text, startNs: startNs)
        guardBPF.onEvent = { [unowned self] event in self.handle(event) }
        bashProbe?.onNotice = { [unowned self] s in self.notice(s) }
        guardBPF.beforeResume = { [unowned self] pid in HoldShadow.settle(parentOf: pid, keep: self.keepsStopped) }
    }

    /// Whether the guard keeps the process stopped: held by the kernel, or stopped by a verdict.
    private func keepsStopped(_ pid: Int32) -> Bool {
        enforcer.stopped[pid] != nil || guardBPF.held().contains { $0.pid == pid }
    }

    /// Hold timeouts and resume/kill requests, after each poll.
    private func tick() {
        let now = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
        if !holdShadow.isIdle {
            holdShadow.tick(nowNs: now, keep: keepsStopped)
        }
        intent?.poll(nowNs: now)
        writeTraffic()
        for w in enforcer.takeWarnings() { notice(w) }
        for pid in enforcer.sweepTimeouts(nowNs: now) {
            summary.holdTimeouts += 1
            let what = enforcer.policy.onTimeout == .allow ? "resumed" : "killed"
            notice("pid \(pid) held with no verdict for \(enforcer.policy.holdTimeoutMs) ms: \(what) (on_timeout)")
        }
        for r in stops.tick(nowNs: now) {
            notice(r.message)
            resolved(r.pid, r.outcome)
        }
    }

    /// Writes what became of a stopped process into its violation (for the summary, --report and --junit).
    func resolved(_ pid: Int32, _ outcome: String) {
        if let i = violations.lastIndex(where: { $0.0.pid == pid && $0.1.outcome == nil }) {
            violations[i].1.outcome = outcome
        }
        if let i = bashViolations.lastIndex(where: { $0.0.pid == pid && $0.1.outcome == nil }) {
            bashViolations[i].1.outcome = outcome
        }
    }

    func notice(_ s: String) {
        if options.format == .text { stdout.write(line: "!! " + s) }
        FileHandleStderr.write("claude-guard: \(s)\n")
        if let otlp {
            let now = guardBPF.wallTime(monotonicNs: UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
            otlp.add(jsonLine { EventJSON.notice(s, time: now, into: &$0) })
        }
    }

    // MARK: -p PID

    /// Guards a running process and its descendants until the tree exits, a signal, or --duration.
    ///
    /// - Returns: 0, or 3 when violations were recorded.
    /// - Throws: `GuardError.noSuchProcess`.
    public func watch(pid: Int32) throws -> Int32 {
        guard ProcFS.exists(pid) else { throw GuardError.noSuchProcess(pid) }
        if enforcer.workspace == nil { enforcer.workspace = realPath("/proc/\(pid)/cwd") }
        try startFileRules(launch: false)
        try guardBPF.track(pid, root: pid)
        // Seed descendants that exist already; repeat so children forked mid-scan are caught.
        var seeded: Set<Int32> = []
        for _ in 0..<3 {
            // The tree, and with --session/--cgroup the processes it may have started before attach that left
            // it (reparented to init), with their own descendants.
            var roots = [pid]
            if options.session {
                guard let members = ProcFS.sessionMembers(of: pid) else { throw GuardError.ownSession(pid) }
                roots += members
            }
            if let cg = options.cgroupPath {
                // Never the guard itself or whoever started it (a cgroup may hold the operator's shell too).
                var mine: Set<Int32> = [getpid()]
                var p = getppid()
                while p > 1, mine.insert(p).inserted { p = ProcFS.parent(of: p) ?? 1 }
                roots += ProcFS.cgroupMembers(cg).filter { !mine.contains($0) }
            }
            var all = Set(roots.dropFirst())
            for r in roots { all.formUnion(ProcFS.descendants(of: r)) }
            let found = all.subtracting(seeded).subtracting([pid])
            if found.isEmpty { break }
            for child in found { try guardBPF.track(child, root: pid) }
            seeded.formUnion(found)
        }
        guard ProcFS.exists(pid) else { throw GuardError.noSuchProcess(pid) }
        intent?.startHookLink(agentPid: pid, quiet: options.quiet)
        for p in [pid] + seeded.sorted() {
            intent?.discover(pid: p)
            bashProbe?.discover(pid: p)
        }
        announce("guarding PID \(pid) and \(seeded.count) descendant(s)")
        let deadline = options.duration.map { startNs + UInt64($0 * 1e9) }
        var lastCheck: UInt64 = 0
        while cg_stop_requested() == 0 {
            guardBPF.poll(timeoutMs: 50)
            if let f = guardBPF.pollFailure {
                notice("\(f) The tree can no longer be judged: held processes get on_timeout.")
                break
            }
            tick()
            flushAll()
            let now = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
            if let deadline, now >= deadline { break }
            if now - lastCheck > 200_000_000 {
                lastCheck = now
                if !guardBPF.tracksAny(root: pid) { break }
            }
        }
        drain()
        return finish(status: nil)
    }

    // MARK: run -- CMD

    /// Starts a command under guard (tracked before its first exec) and waits for it.
    ///
    /// - Returns: 3 when violations were recorded, else the command's status (128+signal when killed).
    /// - Throws: `GuardError.spawnFailed`.
    public func run(command: [String]) throws -> Int32 {
        // Orphans of the tree are reparented to the guard, which reaps them and sees the tree end.
        try syscall("become a child subreaper (prctl PR_SET_CHILD_SUBREAPER)") { cg_set_subreaper() }
        if enforcer.workspace == nil { enforcer.workspace = realPath(".") }
        try startFileRules(launch: true)
        var gate: Int32 = -1
        var report: Int32 = -1
        // Resolve over PATH here so the child makes one execve, not one failed exec per PATH entry.
        guard let file = SearchPath.find(command[0]) else {
            throw GuardError.spawnFailed(command: command[0], errno: ENOENT)
        }
        let rulesets = fileGuard?.rulesets ?? []
        let child = withCStrings(command) { cg_spawn_gated(file, &$0, rulesets, Int32(rulesets.count), &gate, &report) }
        fileGuard?.closeRulesets()
        if child < 0 { throw GuardError.spawnFailed(command: command[0], errno: -child) }
        do {
            try guardBPF.track(
                child, root: child, landlocked: UInt32(rulesets.isEmpty ? 0 : fileGuard?.plan.landlocked ?? 0))
            try guardBPF.watchdogGuards(root: child)
        } catch {
            kill(child, SIGKILL)
            waitpid(child, nil, 0)
            throw error
        }
        intent?.startHookLink(agentPid: child, quiet: options.quiet)
        var why = ""
        cgroup = RunCgroup(moving: child, why: &why)
        if cgroup == nil && !options.quiet {
            FileHandleStderr.write(
                "claude-guard: warning: no cgroup for the command (\(why)); descendants left at its end are killed PID by PID\n"
            )
        }
        announce("guarding `\(command.joined(separator: " "))` (PID \(child))")
        let execErr = -cg_gate_open(gate, report)
        if execErr != 0 {
            waitpid(child, nil, 0)
            if execErr & CG_SPAWN_LANDLOCK != 0 {
                throw GuardError.system(what: "apply the file rules' Landlock ruleset", errno: execErr & 0xffff)
            }
            throw GuardError.spawnFailed(command: command[0], errno: execErr)
        }
        var status: Int32? = nil
        let deadline = options.duration.map { startNs + UInt64($0 * 1e9) }
        var stopSignal: Int32 = 0
        while status == nil {
            guardBPF.poll(timeoutMs: 50)
            if let f = guardBPF.pollFailure {
                notice("\(f) The tree can no longer be judged: it is ended.")
                break
            }
            tick()
            flushAll()
            status = reap(child)
            stopSignal = cg_stop_requested()
            if stopSignal != 0 { break }
            if let deadline, UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)) >= deadline { break }
        }
        if status == nil {
            // Stopped by a signal or --duration: end the whole tree.
            terminate(root: child, including: [child])
            status = reap(child, block: true)
        }
        drain()
        let leftovers = guardBPF.tracked(root: child).filter { $0 != child }
        if !leftovers.isEmpty || cgroup?.populated == true {
            if options.keepDescendants && stopSignal == 0 {
                announce("command exited; guarding \(leftovers.count) descendant(s) until they exit")
                while cg_stop_requested() == 0 && guardBPF.tracksAny(root: child) {
                    guardBPF.poll(timeoutMs: 50)
                    tick()
                    flushAll()
                    _ = reap(-1)
                }
            } else {
                summary.leftovers = leftovers.sorted()
                terminate(root: child, including: leftovers)
            }
            drain()
        }
        let final = status ?? (stopSignal != 0 ? 128 + stopSignal : 1)
        cgroup?.remove()
        return finish(status: final)
    }

    /// Compiles the file rules for the workspace and writes them into the kernel; `launch`: also the Landlock
    /// rulesets for the command `run` starts.
    private func startFileRules(launch: Bool) throws {
        guard !policy.fileRules.isEmpty else { return }
        let fg = try FileGuard(
            policy: policy, workspace: enforcer.workspace, audit: audit, launch: launch, bpf: guardBPF)
        fileGuard = fg
        if !options.quiet {
            let how =
                fg.rulesets.isEmpty
                ? "detected in the kernel"
                : "\(fg.rulesets.count) Landlock layer(s) refuse \(FileAccess.from(bits: fg.plan.landlocked).map(\.rawValue).joined(separator: ", "))"
            FileHandleStderr.write("claude-guard: \(policy.fileRules.count) file rule(s): \(how)\n")
        }
        for n in fg.notes { FileHandleStderr.write("claude-guard: warning: \(n)\n") }
    }

    /// SIGTERM the tracked tree (and the given pids), then SIGKILL what is left after --grace.
    private func terminate(root: Int32, including pids: [Int32]) {
        enforcer.releaseAll()
        var targets = Set(pids).union(guardBPF.tracked(root: root))
        for pid in targets {
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)
        }
        let until = BPFGuard.clockNs(CLOCK_MONOTONIC) + Int64(options.grace * 1e9)
        while BPFGuard.clockNs(CLOCK_MONOTONIC) < until {
            guardBPF.poll(timeoutMs: 20)
            _ = reap(-1)
            targets = targets.filter { ProcFS.exists($0) && ProcFS.state(of: $0) != "Z" }
            if targets.isEmpty && cgroup?.populated != true { break }
        }
        // Whatever is left in the tree's cgroup dies at once, a process forked meanwhile included.
        cgroup?.killAll()
        for pid in Set(targets).union(guardBPF.tracked(root: root)) { kill(pid, SIGKILL) }
        for _ in 0..<50 {
            _ = reap(-1)
            guardBPF.poll(timeoutMs: 10)
            if !guardBPF.tracksAny(root: root) { break }
        }
    }

    /// Reaps children (we are a subreaper); returns child's shell status once it is reaped.
    private func reap(_ child: Int32, block: Bool = false) -> Int32? {
        var result: Int32? = nil
        func record(_ st: Int32) {
            let sig = st & 0x7f
            result = sig == 0 ? (st >> 8) & 0xff : 128 + sig
        }
        var st: Int32 = 0
        // Block on the child itself only: -1 would also wait for the watchdog, which outlives us.
        if block && child > 0 && waitpid(child, &st, 0) == child { record(st) }
        while true {
            let pid = waitpid(-1, &st, WNOHANG)
            if pid <= 0 { break }
            if pid == child { record(st) }
        }
        return result
    }

    private func drain() {
        while guardBPF.poll(timeoutMs: 0) > 0 {}
        flushAll()
    }

    func flushAll() {
        var counted: (lost: UInt64, untracked: UInt64, unheld: UInt64) = (0, 0, 0)
        do { counted = try guardBPF.newlyCounted() } catch {
            if !countersFailed { notice("\(error) Lost records and full maps go unreported.") }
            countersFailed = true
        }
        reportFullMaps(untracked: counted.untracked, unheld: counted.unheld)
        let lost = counted.lost + (intent?.newlyLost() ?? 0)
        if lost > 0 {
            summary.lost += lost
            let now = guardBPF.wallTime(monotonicNs: UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
            let line = jsonLine { EventJSON.lost(lost, time: now, into: &$0) }
            log(line)
            if options.format == .json {
                stdout.write(line)
            } else {
                stdout.write(line: "!! LOST \(lost) event(s): the ring buffer was full")
            }
        }
        stdout.flush()
        jsonFile?.flush()
        violationsFile?.flush()
    }

    /// Says what the kernel did when its maps were full: never a descendant lost without a word.
    private func reportFullMaps(untracked: UInt64, unheld: UInt64) {
        if untracked > 0 {
            summary.untracked += untracked
            let fate = audit ? "they run unguarded (audit mode)" : "each such child was killed at its first system call"
            notice("\(untracked) fork(s) of the tree could not be tracked (the kernel's tracked map is full): \(fate)")
        }
        if unheld > 0 {
            summary.unheld += unheld
            let fate = policy.onTimeout == .allow ? "resumed" : "killed"
            notice("\(unheld) process(es) could not be held (the kernel's held map is full): \(fate) (on_timeout)")
        }
    }

    public var currentSummary: Summary { summary }

}

/// Writes the guard's own notices to stderr without buffering (the command line prints its errors itself).
enum FileHandleStderr {
    static func write(_ s: String) {
        var bytes = Array(s.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
