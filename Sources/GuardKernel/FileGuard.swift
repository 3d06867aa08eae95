import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// File rules on the kernel side: the compiled plan written into the BPF maps, Landlock rulesets for the
/// tree `run` launches, and the judgement of the file calls the kernel leaves to user space.
public final class FileGuard {
    public let plan: FileKernelPlan
    let policy: Policy
    let audit: Bool
    private unowned let bpf: BPFGuard
    /// Landlock ruleset descriptors, one per layer (closed after the spawn).
    public private(set) var rulesets: [Int32] = []
    /// Lines for the start-up notice: what is enforced how, and what could not be.
    public private(set) var notes: [String] = []

    /// The running kernel's Landlock ABI, or 0 without Landlock.
    public static let landlockABI: Int = {
        let abi = cg_landlock_abi()
        return abi > 0 ? Int(abi) : 0
    }()

    /// Compiles the policy's file rules and writes them into the kernel maps.
    ///
    /// - Parameter launch: build Landlock rulesets (for `run`: the tree is launched by the guard).
    /// - Throws: `GuardError.system` when a map cannot be written.
    public init(policy: Policy, workspace: String?, audit: Bool, launch: Bool, bpf: BPFGuard) throws {
        self.policy = policy
        self.audit = audit
        self.bpf = bpf
        let abi = launch && !audit ? Self.landlockABI : 0
        plan = FileKernelPlan(policy: policy, workspace: workspace, landlockABI: abi)
        guard !policy.fileRules.isEmpty else { return }
        try bpf.install(plan)
        for (rule, pattern) in plan.unsupported {
            notes.append("file rule \(rule): '\(pattern)' is judged from paths as text only (no tree shape)")
        }
        for o in plan.overflow { notes.append("file rule \(o): over the kernel's limits, not enforced in the kernel") }
        if launch && !audit {
            if abi == 0 {
                notes.append(
                    "Landlock is not available: writes, deletes and renames of protected files are killed after the first call, not refused"
                )
            } else {
                try buildRulesets()
            }
        }
    }

    deinit { closeRulesets() }

    /// The Landlock rulesets of the plan; a layer whose ruleset cannot be built is dropped with a note.
    private func buildRulesets() throws {
        for layer in plan.landlock {
            let fd = cg_landlock_ruleset(layer.handled)
            if fd < 0 {
                notes.append("Landlock ruleset for \(layer.rule): \(String(cString: strerror(-fd)))")
                continue
            }
            for (path, access) in layer.grants {
                let err = cg_landlock_allow(fd, path, access)
                // A path that vanished since the plan was made grants nothing; that only refuses more.
                if err != 0 && err != -ENOENT && err != -EACCES {
                    notes.append("Landlock grant \(path) for \(layer.rule): \(String(cString: strerror(-err)))")
                }
            }
            rulesets.append(fd)
        }
    }

    public func closeRulesets() {
        rulesets.forEach { close($0) }
        rulesets = []
    }

    /// The accesses the kernel refuses in the launched tree (tracked-map flag: no hold for those calls).
    public var landlocked: UInt32 { rulesets.isEmpty ? 0 : plan.landlocked }

    /// Judges a file call the kernel reported: a violation when a rule other than allow applies, with what was
    /// done. Held calls are resumed or killed here; refused calls of `kill` rules get their SIGKILL here.
    ///
    /// - Parameter audit: the call's tree is audited (the daemon's rules serve audited and enforced trees alike);
    ///   nil: as the guard was made.
    public func handle(_ e: FileEvent, processPath: String?, workspace: String?, audit: Bool? = nil) -> Violation? {
        let audit = audit ?? self.audit
        var rule: FileRule?
        // A path call is judged where the kernel resolved it for that process: symlinks in its directories
        // seen through (`WS/link/f` is the file the link points into), from the process's root.
        let path = e.relative ? Self.resolve(e.fullPath, pid: e.pid) : e.fullPath
        let path2 = e.fullPath2.map { Self.resolve($0, pid: e.pid) }
        var matchedPath = path
        if let k = e.kernelRule, k < plan.rules.count {
            rule = policy.fileRules[plan.rules[k].index]
        } else {
            // A rename or link also creates its target: judged as the same access there.
            for p in [path] + (path2.map { [$0] } ?? []) {
                for a in e.access {
                    if let r = policy.judgeFile(path: p, access: a, processPath: processPath, workspace: workspace),
                        rule.map({ $0.action < r.action }) ?? true
                    {
                        rule = r
                        matchedPath = p
                    }
                }
            }
        }
        let refused = e.ret < 0
        guard let r = rule, r.action != .allow else {
            if e.held { resume(e.pid) }
            return nil
        }
        let enforced: String
        switch r.action {
        case .allow:
            enforced = "allowed"
        case .alert:
            if e.held { resume(e.pid) }
            enforced = "alerted"
        case .deny, .kill:
            if audit {
                enforced = r.action == .deny ? "would-deny" : "would-kill"
            } else if refused {
                // The kernel refused it (Landlock): nothing happened; a kill rule also ends the process.
                if r.action == .kill { kill(e.pid, SIGKILL) }
                enforced = r.action == .kill ? "killed" : "denied"
            } else if e.killedInKernel {
                enforced = Self.tookEffect(e) ? "killed-after" : "killed"
            } else {
                kill(e.pid, SIGKILL)
                enforced = Self.tookEffect(e) ? "killed-after" : "killed"
            }
        }
        let accessText = e.access.map(\.rawValue).joined(separator: ",")
        return Violation(
            rule: r.id, action: r.action.rawValue, enforced: enforced, severity: (r.severity ?? .medium).rawValue,
            policy: policy.name, matched: "\(accessText) \(matchedPath)", description: r.description)
    }

    /// `path` with the symlinks of its directory resolved as the process sees them (its root), or as the
    /// guard sees them once the process is gone; the last name is kept (it may be gone, or be a link itself).
    static func resolve(_ path: String, pid: Int32) -> String {
        let slash = path.lastIndex(of: "/") ?? path.startIndex
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        let leaf = String(path[path.index(after: slash)...])
        let root = "/proc/\(pid)/root"
        let viaRoot = realPath(root).map { $0 == "/" ? "" : root }
        guard let dir = realPath((viaRoot ?? "") + parent) else { return path }
        return (dir == "/" ? "" : dir) + "/" + leaf
    }

    /// Whether the call changed the file before the process could be stopped (a path call that succeeded, or
    /// an open that truncated); an open for reading or writing is killed before any byte moves.
    static func tookEffect(_ e: FileEvent) -> Bool {
        guard e.ret >= 0 else { return false }
        if e.op == .open { return e.access.contains(.truncate) }
        return true
    }

    private func resume(_ pid: Int32) { bpf.resume(pid) }
}

extension BPFGuard {
    /// Writes a compiled plan into the kernel maps; the rules take effect with the last call.
    func install(_ plan: FileKernelPlan) throws {
        func check(_ err: Int32, _ what: String) throws {
            if err != 0 { throw GuardError.system(what: what, errno: -err) }
        }
        var strict: UInt64 = 0
        var named: UInt64 = 0
        for (bit, t) in plan.trees.enumerated() {
            var info = cg_ftree()
            info.strict = t.strict ? 1 : 0
            switch t.name {
            case .none: info.name_kind = 0
            case .exact(let n):
                info.name_kind = 1
                info.plen = UInt8(n.utf8.count)
                Self.copy(n, into: &info.prefix)
            case .affix(let p, let s):
                info.name_kind = 2
                info.plen = UInt8(p.utf8.count)
                info.slen = UInt8(s.utf8.count)
                Self.copy(p, into: &info.prefix)
                Self.copy(s, into: &info.suffix)
            }
            if t.strict { strict |= 1 << UInt64(bit) }
            if t.name != nil { named |= 1 << UInt64(bit) }
            try check(withUnsafePointer(to: &info) { cg_bpf_set_tree(bpf, UInt32(bit), $0) }, "write a file tree")
            // The root by identity (every spelling of it meets this inode) ...
            guard let id = ProgramIdentity.identity(of: t.root) else { continue }
            var key = cg_ident(dev: id.device, ino: id.inode)
            try check(cg_bpf_add_tree_root(bpf, &key, 1 << UInt64(bit)), "write a file tree root")
            // ... and by its name in its parent, for calls that name it relative to the parent.
            let parent = t.root == "/" ? "/" : String(t.root[..<(t.root.lastIndex(of: "/") ?? t.root.startIndex)])
            let leaf = String(t.root.split(separator: "/").last ?? "")
            if !t.strict, !leaf.isEmpty, let pid = ProgramIdentity.identity(of: parent.isEmpty ? "/" : parent) {
                var nk = cg_name_key(
                    dev: pid.device, ino: pid.inode, hash: leaf.withCString { cg_name_hash($0, strlen($0)) })
                try check(cg_bpf_add_tree_name(bpf, &nk, 1 << UInt64(bit)), "write a file tree name")
            }
        }
        var access: UInt32 = 0
        for (i, r) in plan.rules.enumerated() {
            var fr = cg_frule()
            fr.access = r.access
            fr.action = Self.kernelAction(r.action)
            if let u = r.under {
                fr.under = u
                fr.flags |= UInt32(CG_FRULE_UNDER.rawValue)
            }
            if let o = r.outside {
                fr.outside = o
                fr.flags |= UInt32(CG_FRULE_OUTSIDE.rawValue)
            }
            if let p = r.process {
                fr.procs = 1 << UInt64(p)
                fr.flags |= UInt32(CG_FRULE_PROCESS.rawValue)
            }
            access |= r.access
            try check(cg_bpf_set_file_rule(bpf, UInt32(i), &fr), "write a file rule")
        }
        let search = getenv("PATH").map { String(cString: $0) }
        for (bit, names) in plan.processSets.enumerated() {
            let ids = ProgramIdentity(
                names: Set(names.filter { !$0.contains("/") }), paths: Set(names.filter { $0.contains("/") }),
                searchPath: search)
            for t in ids.targets {
                var key = cg_ident(dev: t.identity.device, ino: t.identity.inode)
                try check(cg_bpf_add_process(bpf, &key, 1 << UInt64(bit)), "write a file rule's program")
            }
        }
        cg_bpf_set_file_globals(bpf, strict, named, access, !plan.processSets.isEmpty)
        try check(cg_bpf_freeze_file_rules(bpf), "freeze the file rules")
    }

    static func kernelAction(_ a: FileAction) -> UInt32 {
        switch a {
        case .allow: return UInt32(CG_FACT_ALLOW.rawValue)
        case .alert: return UInt32(CG_FACT_ALERT.rawValue)
        case .deny: return UInt32(CG_FACT_DENY.rawValue)
        case .kill: return UInt32(CG_FACT_KILL.rawValue)
        }
    }

    /// Copies a name's bytes into a fixed C char array (a tuple in Swift).
    static func copy<T>(_ s: String, into field: inout T) {
        withUnsafeMutableBytes(of: &field) { buf in
            for (i, b) in s.utf8.prefix(buf.count).enumerated() { buf[i] = b }
        }
    }
}
