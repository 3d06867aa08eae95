import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `claude-guard daemon` is told by its command line.
public struct DaemonOptions {
    public var configPath: String
    /// -o: the JSON Lines log; nil: stdout.
    public var outputPath: String?
    /// --otlp: every record also goes to an OpenTelemetry Collector.
    public var otlp: OTLPConfig?

    public init(configPath: String) { self.configPath = configPath }
}

/// One guard of the config, loaded: its policy, and the enforcer that judges every tree it guards.
final class DaemonGuard {
    let spec: DaemonConfig.Guard
    /// Its bit in the kernel's watch list (its index in the config).
    let bit: Int
    let policy: Policy
    let audit: Bool
    let enforcer: Enforcer
    /// Its say in the kernel's verdicts (nil when it audits: it never signals).
    let slot: VerdictUnion.Slot?
    let argv: SearchRegex?

    init(spec: DaemonConfig.Guard, bit: Int, policy: Policy, bpf: BPFGuard, union: VerdictUnion) throws {
        self.spec = spec
        self.bit = bit
        self.policy = policy
        audit = (spec.mode ?? policy.mode) == .audit
        slot = audit ? nil : union.slot()
        enforcer = try Enforcer(policy: policy, audit: audit, workspace: nil, bpf: bpf, verdicts: slot)
        argv = try spec.argv.map { try SearchRegex($0) }
    }

    /// A guard's policy, loaded; a policy that does not load is named by the guard's `policy:` line first.
    static func loadPolicy(_ spec: DaemonConfig.Guard) throws(PolicyError) -> Policy {
        do {
            return try PolicyLocator.load(spec.policy)
        } catch {
            let why = error.description.hasSuffix(".") ? String(error.description.dropLast()) : error.description
            throw PolicyError.invalidValue(spec.policyAt, key: "policy", message: "the policy does not load:\n\(why)")
        }
    }

    var describe: String {
        "guard \(spec.name): policy \(policy.name) (\(PolicyLocator.source(of: policy))), \(audit ? "audit" : "enforce") mode"
    }
}

/// A tree the daemon guards: the guard it matched and its `${workspace}` (the root's working directory).
struct GuardedTree {
    var entry: DaemonGuard
    var workspace: String?
}

/// `claude-guard daemon`: guards every process that matches a guard of the config, with that guard's policy,
/// from its exec (or from start, for those running already) with all its descendants; reloads on SIGHUP.
///
/// One kernel object serves every tree. Its read-only configuration is fixed at load whatever the config says,
/// so that any later config fits it: enforcing (audited trees are exempted per root, `audit_roots`), unknown
/// programs held, a hold that cannot be reported killed, no ptrace verdict in the kernel. The file rules are the
/// one set every guard shares (`DaemonFileRules`: a config whose policies differ there is refused), loaded at
/// start and frozen (issue 12: an agent running as root must not rewrite them); a reload whose file rules differ
/// from the loaded ones is refused whole, keeping the configuration that runs, and says a restart is needed:
/// new exec rules over old file rules would be neither policy. A reload rebuilds the user-space side only: the
/// policies and enforcers, the watch list, the kernel verdicts (not frozen: rewritten as the union of the new
/// policies'); the tracked trees stay in the kernel untouched.
public final class Daemon {
    let options: DaemonOptions
    let bpf: BPFGuard
    let union: VerdictUnion
    let watch: WatchList
    var guards: [DaemonGuard] = []
    /// Guarded trees by root.
    var trees: [Int32: GuardedTree] = [:]
    /// The root of each live process of a tree (from its exec).
    var rootOf: [Int32: Int32] = [:]
    /// Processes left stopped by a `stop` verdict: by whom, since when (no terminal: on_timeout decides).
    var stopped: [Int32: (entry: DaemonGuard, sinceNs: UInt64)] = [:]
    let out: OutputFile
    let otlp: OTLPExporter?
    var writer = JSONWriter(capacity: 4096)
    let cgroupRoot: String
    /// The file rules loaded into the kernel (nil: none), and what a reload must find again.
    let fileRules: DaemonFileRules
    let fileGuard: FileGuard?
    /// The file each live process exec'd by name (a script, not its interpreter), for file rules' `process`.
    var programOf: [Int32: String] = [:]
    private var lastSweepNs: UInt64 = 0

    /// Reads the config and its policies, loads and attaches the kernel side, fills the watch list and adopts
    /// the matching processes that run already.
    ///
    /// - Throws: `PolicyError` (file:line:column), `GuardError`.
    public init(options: DaemonOptions) throws {
        self.options = options
        cgroupRoot = DaemonConfig.cgroupRoot()
        let config = try DaemonConfig.load(file: options.configPath, cgroupRoot: cgroupRoot)
        let policies = try Self.policies(config)
        fileRules = try DaemonFileRules(guards: config.guards, policies: policies)
        out = try options.outputPath.map { try OutputFile(appendingTo: $0) } ?? OutputFile()
        cg_install_stop_handlers()
        cg_install_reload_handler()
        var k = KernelConfig(enforce: true, defaultVerdict: .hold, unreportedVerdict: .kill)
        k.watch = true
        k.bash = false
        k.files = fileRules.policy != nil
        // Every reach out of a tree is held; each tree's policy decides (settings.ptrace) in user space.
        k.ptraceVerdict = .hold
        bpf = try BPFGuard(config: k)
        try bpf.startWatchdog(killHeld: true)
        union = VerdictUnion(bpf: bpf)
        watch = WatchList(bpf: bpf)
        otlp = options.otlp.map {
            OTLPExporter(config: $0, resource: OTLPResourceInfo(policy: "daemon", mode: "daemon"))
        }
        if let p = fileRules.policy {
            fileGuard = try FileGuard(policy: p, workspace: nil, audit: false, launch: false, bpf: bpf)
        } else {
            fileGuard = nil
        }
        guards = try Self.load(config, policies: policies, bpf: bpf, union: union)
        try watch.program(guards)
        bpf.onEvent = { [unowned self] event in self.handle(event) }
        announce(guards, "")
        adoptRunning()
    }

    /// One line per guard, and what of the shared file rules is not applied (see `DaemonFileRules`).
    private func announce(_ list: [DaemonGuard], _ prefix: String) {
        for g in list { say(.info, prefix + g.describe) }
        if let fg = fileGuard {
            say(.info, "file rules: \(fg.plan.rules.count) applied to every guarded tree")
            for n in fg.notes { say(.warning, n) }
        }
        if !fileRules.skipped.isEmpty {
            say(
                .warning,
                "file rule(s) \(fileRules.skipped.joined(separator: ", ")) name ${workspace}, which differs per tree: not applied in daemon mode (use run or -p for them)"
            )
        }
    }

    /// `daemon --check`: reads the config and every policy it names as the daemon would, without loading
    /// anything into the kernel; returns a line per guard.
    ///
    /// - Throws: `PolicyError` (file:line:column).
    public static func check(configPath: String) throws(PolicyError) -> [String] {
        let config = try DaemonConfig.load(file: configPath, cgroupRoot: DaemonConfig.cgroupRoot())
        let policies = try Self.policies(config)
        let files = try DaemonFileRules(guards: config.guards, policies: policies)
        var lines = zip(config.guards, policies).map { g, p in
            let mode = (g.mode ?? p.mode) == .audit ? "audit" : "enforce"
            return "guard \(g.name): policy \(p.name) (\(PolicyLocator.source(of: p))), \(mode) mode"
        }
        if let p = files.policy { lines.append("file rules: \(p.fileRules.count) applied to every guarded tree") }
        if !files.skipped.isEmpty {
            lines.append("file rule(s) \(files.skipped.joined(separator: ", ")) name ${workspace}: not applied")
        }
        return lines
    }

    /// Every guard's policy, in config order; the first that does not load stops it.
    static func policies(_ config: DaemonConfig) throws(PolicyError) -> [Policy] {
        try config.guards.map { (g) throws(PolicyError) -> Policy in try DaemonGuard.loadPolicy(g) }
    }

    /// Makes every guard with its policy; the first error stops it (nothing half-loaded is used).
    static func load(
        _ config: DaemonConfig, policies: [Policy], bpf: BPFGuard, union: VerdictUnion
    ) throws -> [DaemonGuard] {
        var out: [DaemonGuard] = []
        for (i, spec) in config.guards.enumerated() {
            out.append(try DaemonGuard(spec: spec, bit: i, policy: policies[i], bpf: bpf, union: union))
        }
        return out
    }

    /// Runs until SIGTERM/SIGINT; returns 0, or 1 when the kernel's records can no longer be read.
    public func run() -> Int32 {
        SystemdNotify.send("READY=1\nSTATUS=guarding \(guards.count) guard(s)")
        say(.info, "ready: \(guards.count) guard(s), \(trees.count) tree(s) guarded")
        var status: Int32 = 0
        while cg_stop_requested() == 0 {
            bpf.poll(timeoutMs: 50)
            if let f = bpf.pollFailure {
                say(.error, "\(f) The trees can no longer be judged: held processes get on_timeout.")
                status = 1
                break
            }
            if cg_reload_requested() != 0 { reload() }
            tick()
        }
        SystemdNotify.send("STOPPING=1")
        shutdown()
        return status
    }

    // MARK: events

    func handle(_ event: KernelEvent) {
        switch event {
        case .exec(let e):
            guard case .exec = e.kind else { return }
            // A new root the kernel adopted from the watch list: which guard, if any, takes it.
            if e.pid == e.root, let bits = watch.adopted(e.pid), !adopt(e, bits: bits) { return }
            guard let tree = trees[e.root] else {
                // A process of a candidate just dropped, still in flight: not ours.
                if e.held { bpf.resume(e.pid) }
                return
            }
            rootOf[e.pid] = e.root
            if fileGuard != nil { programOf[e.pid] = GuardSession.program(e) }
            let enforcer = tree.entry.enforcer
            enforcer.workspace = tree.workspace
            let violation = enforcer.handle(e)
            if let v = violation, v.enforced.hasPrefix("stopped") {
                stopped[e.pid] = (tree.entry, UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
            }
            log(guardName: tree.entry.spec.name) { EventJSON.exec(e, violation: violation, into: &$0) }
            if let v = violation {
                say(.warning, "\(v.enforced) pid \(e.pid) rule \(v.rule) (\(tree.entry.describe)): \(v.matched)")
            }
        case .ptrace(let p):
            guard let tree = trees[p.root] else {
                if p.held { bpf.resume(p.pid) }
                return
            }
            let violation = tree.entry.enforcer.handle(p)
            if let v = violation, v.enforced.hasPrefix("stopped") {
                stopped[p.pid] = (tree.entry, UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC)))
            }
            log(guardName: tree.entry.spec.name) { EventJSON.ptrace(p, violation: violation, into: &$0) }
            if let v = violation {
                say(.warning, "\(v.enforced) pid \(p.pid) rule \(v.rule) (\(tree.entry.describe)): \(v.matched)")
            }
        case .exit(let x):
            rootOf[x.pid] = nil
            programOf[x.pid] = nil
            stopped[x.pid] = nil
            guard let tree = trees[x.root] else { return }
            tree.entry.enforcer.exited(x.pid)
            log(guardName: tree.entry.spec.name) { EventJSON.exit(x, into: &$0) }
        case .file(let f):
            handleFile(f)
        case .bash:
            break  // not loaded in daemon mode
        }
    }

    /// A file call of a guarded tree, judged by the shared file rules (audited trees: reported, never signalled)
    /// and logged under the tree's guard and policy.
    private func handleFile(_ f: FileEvent) {
        guard let tree = trees[f.root], let fileGuard else {
            // A candidate just dropped, still in flight: not ours.
            if f.held { bpf.resume(f.pid) }
            return
        }
        let exe = f.kernelRule == nil ? programOf[f.pid] ?? realPath("/proc/\(f.pid)/exe") : nil
        guard var v = fileGuard.handle(f, processPath: exe, workspace: tree.workspace, audit: tree.entry.audit)
        else { return }
        v.policy = tree.entry.policy.name
        log(guardName: tree.entry.spec.name) { EventJSON.file(f, violation: v, into: &$0) }
        say(.warning, "\(v.enforced) pid \(f.pid) file rule \(v.rule) (\(tree.entry.describe)): \(v.matched)")
    }

    /// Gives a new root to the first guard its kernel match names whose argv pattern (if any) matches; false
    /// when none does, and then the root and anything it forked meanwhile are forgotten (`drop`).
    private func adopt(_ e: ExecEvent, bits: UInt64) -> Bool {
        let line = e.argvStrings.joined(separator: " ")
        let entry = guards.first { bits & (1 << UInt64($0.bit)) != 0 && ($0.argv?.search(line) ?? true) }
        guard let entry else {
            drop(root: e.pid)
            return false
        }
        let cwd = e.cwd.map { String(decoding: $0, as: UTF8.self) } ?? "/"
        startTree(root: e.pid, entry: entry, cwd: cwd, uid: e.uid, comm: String(decoding: e.comm, as: UTF8.self))
        return true
    }

    /// Forgets a candidate root the kernel adopted that no guard takes (its argv pattern did not match), with
    /// anything it forked meanwhile, and lets it run if it is held. When an enforcing guard could take it the
    /// kernel held it at its exec, so it ran nothing meanwhile; when only audit guards could, it ran for that
    /// poll's time (at most ~50 ms) watched but never signalled (its tree was marked audited in the kernel).
    func drop(root: Int32) {
        let held = Set(bpf.held().map(\.pid))
        for pid in bpf.tracked(root: root) {
            _ = cg_bpf_untrack(bpf.handle, UInt32(bitPattern: pid))
            if held.contains(pid) { bpf.resume(pid) }
        }
        watch.setAudited(root: root, false)
    }

    func startTree(root: Int32, entry: DaemonGuard, cwd: String, uid: UInt32, comm: String) {
        var workspace: String? = nil
        do {
            let ws = try Workspace.resolve(
                given: nil, fallback: cwd, cwd: cwd, homes: Workspace.homes(uids: [uid]),
                strict: entry.policy.usesWorkspace)
            workspace = ws.path
        } catch {
            say(.warning, "pid \(root): \(error) (${workspace} rules match nothing in this tree)")
        }
        trees[root] = GuardedTree(entry: entry, workspace: workspace)
        watch.setAudited(root: root, entry.audit)
        say(
            .notice,
            "guarding pid \(root) (\(comm)) and its descendants: \(entry.describe), workspace \(workspace ?? "(none)")")
        log(guardName: entry.spec.name) {
            $0.beginObject()
            $0.field("type", "guarded")
            $0.field("time", RFC3339.format(now()))
            $0.field("pid", root)
            $0.field("comm", comm)
            $0.field("policy", entry.policy.name)
            $0.field("mode", entry.audit ? "audit" : "enforce")
            $0.endObject()
        }
    }

    // MARK: the loop

    /// Hold timeouts, stop verdicts (no terminal: on_timeout after hold_timeout_ms), resume/kill requests,
    /// ended trees, lost records; then flushes the logs.
    private func tick() {
        let nowNs = UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))
        for (pid, since) in bpf.held() where stopped[pid] == nil && nowNs > since {
            guard let root = rootOf[pid], let entry = trees[root]?.entry else { continue }
            guard nowNs - since > UInt64(max(0, entry.policy.holdTimeoutMs)) * 1_000_000 else { continue }
            if entry.policy.onTimeout == .allow { bpf.resume(pid) } else { kill(pid, SIGKILL) }
            say(.warning, "pid \(pid) held with no verdict for \(entry.policy.holdTimeoutMs) ms: on_timeout")
        }
        for g in Set(stopped.values.map { ObjectIdentifier($0.entry) }) {
            guard let entry = stopped.values.first(where: { ObjectIdentifier($0.entry) == g })?.entry else { continue }
            for (pid, what) in entry.enforcer.serveRequests() {
                stopped[pid] = nil
                say(.notice, "pid \(pid) \(what) on request")
            }
        }
        for (pid, s) in stopped where nowNs - s.sinceNs > UInt64(max(0, s.entry.policy.holdTimeoutMs)) * 1_000_000 {
            let allow = s.entry.policy.onTimeout == .allow
            s.entry.enforcer.decideStopped(pid, allow: allow)
            stopped[pid] = nil
            say(
                .warning,
                "pid \(pid) stopped by a verdict, no one decided: \(allow ? "resumed" : "killed") (on_timeout)")
        }
        if nowNs - lastSweepNs > 1_000_000_000 {
            lastSweepNs = nowNs
            for root in trees.keys where !bpf.tracksAny(root: root) {
                trees[root] = nil
                watch.setAudited(root: root, false)
            }
        }
        if let counted = try? bpf.newlyCounted(), counted.lost + counted.untracked + counted.unheld > 0 {
            say(
                .error,
                "the kernel lost \(counted.lost) record(s), could not track \(counted.untracked) fork(s), could not hold \(counted.unheld) exec(s)"
            )
        }
        out.flush()
    }

    /// SIGHUP: reads the config and every policy again. Anything that does not validate keeps what runs now and
    /// says why (file:line:column). Guarded trees stay in the kernel; each goes on with the guard of the same
    /// name in the new config, or, if that guard is gone, with its old policy until it exits.
    func reload() {
        SystemdNotify.send("RELOADING=1\nMONOTONIC_USEC=\(BPFGuard.clockNs(CLOCK_MONOTONIC) / 1000)")
        defer { SystemdNotify.send("READY=1\nSTATUS=guarding \(guards.count) guard(s)") }
        let next: [DaemonGuard]
        do {
            let config = try DaemonConfig.load(file: options.configPath, cgroupRoot: cgroupRoot)
            let policies = try Self.policies(config)
            let files = try DaemonFileRules(guards: config.guards, policies: policies)
            guard files.signature == fileRules.signature else { throw DaemonReloadError.fileRulesChanged }
            next = try Self.load(config, policies: policies, bpf: bpf, union: union)
            try watch.program(next)
        } catch {
            say(.error, "reload failed, the configuration loaded before stays in force:\n\(error)")
            try? union.keep(liveSlots(guards))
            try? watch.program(guards)
            return
        }
        for (root, tree) in trees {
            if let same = next.first(where: { $0.spec.name == tree.entry.spec.name }) {
                trees[root]?.entry = same
                watch.setAudited(root: root, same.audit)
            } else {
                say(
                    .warning,
                    "pid \(root): guard \(tree.entry.spec.name) is no longer in the config: its policy guards this tree until it exits"
                )
            }
        }
        guards = next
        do { try union.keep(liveSlots(next)) } catch { say(.error, "\(error)") }
        // The old enforcers' goodbye removed the directory `claude-guard resume|kill` write to.
        try? Enforcer.makeRequestDirectory(HeldRequests.directory(ofGuard: getpid()))
        announce(guards, "reloaded: ")
        adoptRunning()
    }

    /// The verdict slots of these guards and of the guards trees still use.
    private func liveSlots(_ current: [DaemonGuard]) -> [VerdictUnion.Slot] {
        var seen: Set<ObjectIdentifier> = []
        return (current + trees.values.map(\.entry) + stopped.values.map(\.entry)).compactMap { g in
            seen.insert(ObjectIdentifier(g)).inserted ? g.slot : nil
        }
    }

    /// SIGTERM: nothing is left stopped (each held or stopped process gets its guard's on_timeout), the
    /// watchdog is told goodbye and the programs detach when the object is freed.
    private func shutdown() {
        while bpf.poll(timeoutMs: 0) > 0 {}
        for (pid, s) in stopped { s.entry.enforcer.decideStopped(pid, allow: s.entry.policy.onTimeout == .allow) }
        stopped.removeAll()
        for (pid, _) in bpf.held() {
            let entry = rootOf[pid].flatMap { trees[$0]?.entry }
            if entry?.policy.onTimeout == .allow { bpf.resume(pid) } else { kill(pid, SIGKILL) }
        }
        say(.info, "stopping: \(trees.count) tree(s) are no longer guarded")
        out.flush()
        otlp?.flush(deadlineNs: BPFGuard.clockNs(CLOCK_MONOTONIC) + 2_000_000_000, stop: true)
    }

    // MARK: output

    func now() -> WallTime { bpf.wallTime(monotonicNs: UInt64(BPFGuard.clockNs(CLOCK_MONOTONIC))) }

    /// One JSON Lines record (stdout or -o, and --otlp), naming the guard.
    func log(guardName: String, _ encode: (inout JSONWriter) -> Void) {
        writer.reset()
        encode(&writer)
        writer.reopenObject()
        writer.field("guard", guardName)
        writer.endObject()
        writer.newline()
        out.write(writer.bytes)
        otlp?.add(writer.bytes)
    }

    /// A line of the daemon's own log (the journal), also a `notice` record for --otlp.
    func say(_ priority: DaemonLog.Priority, _ message: String) {
        DaemonLog.write(priority, message)
        if let otlp {
            writer.reset()
            EventJSON.notice(message, time: now(), into: &writer)
            writer.newline()
            otlp.add(writer.bytes)
        }
    }
}

/// Why a reload that validates is still refused.
enum DaemonReloadError: Error, CustomStringConvertible {
    case fileRulesChanged

    var description: String {
        "the file rules differ from those loaded at start; the kernel's file-rule maps are frozen once written, so a restart of the daemon is needed to change them"
    }
}
