import GuardCore

/// Where an `Enforcer` writes the kernel verdict its policy gives an executable file.
public protocol KernelVerdicts: AnyObject {
    func setVerdict(_ file: FileIdentity, _ verdict: KernelVerdict) throws(GuardError)
}

extension BPFGuard: KernelVerdicts {}

/// The daemon's kernel verdicts: one `verdicts` map serves every guarded tree, whatever its policy, so an
/// executable gets the verdict that is right for all the enforcing policies loaded (each writes through its own
/// `Slot`): `kill` only when every one kills it, `pass` only when every one passes it, otherwise `hold`, and each
/// held exec is judged in user space by the policy of its own tree. A policy that has not judged a file yet
/// counts as `hold` (the kernel's default): safe, and slower only until every policy has seen the file.
/// Audited trees never take part: the kernel lets their execs pass whatever the map says (`audit_roots`).
public final class VerdictUnion {
    /// One enforcing policy's say.
    public final class Slot: KernelVerdicts {
        unowned let union: VerdictUnion
        var said: [FileIdentity: KernelVerdict] = [:]
        init(_ union: VerdictUnion) { self.union = union }

        public func setVerdict(_ file: FileIdentity, _ verdict: KernelVerdict) throws(GuardError) {
            said[file] = verdict
            try union.write(file)
        }
    }

    private unowned let bpf: BPFGuard
    private var slots: [ObjectIdentifier: Slot] = [:]
    /// Every file written, so a change of the loaded policies rewrites them all.
    private var files: Set<FileIdentity> = []

    public init(bpf: BPFGuard) { self.bpf = bpf }

    /// A new policy's slot (it counts from now on).
    public func slot() -> Slot {
        let s = Slot(self)
        slots[ObjectIdentifier(s)] = s
        return s
    }

    /// Keeps only these slots (the policies still loaded or still guarding a tree) and rewrites every verdict.
    ///
    /// - Throws: `GuardError` when the kernel map cannot be written.
    public func keep(_ live: [Slot]) throws(GuardError) {
        slots = Dictionary(uniqueKeysWithValues: live.map { (ObjectIdentifier($0), $0) })
        for f in files { try write(f) }
    }

    private func write(_ file: FileIdentity) throws(GuardError) {
        files.insert(file)
        let says = slots.values.map { $0.said[file] ?? .hold }
        let verdict: KernelVerdict =
            says.isEmpty || says.allSatisfy({ $0 == .pass }) ? .pass : says.allSatisfy({ $0 == .kill }) ? .kill : .hold
        try bpf.setVerdict(file, verdict)
    }
}
