import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// The kernel's watch list (bpf/claude_guard_watch.bpf.h): each guard is a bit; each comm, executable, uid and
/// cgroup a guard names maps to the bits of the guards that name it.
final class WatchList {
    private unowned let bpf: BPFGuard

    init(bpf: BPFGuard) { self.bpf = bpf }

    /// Key sizes of the four maps (enum cg_watch_kind order).
    private static let keySize = [Int(CG_COMM_LEN), MemoryLayout<cg_ident>.size, 4, 8]

    /// Writes the guards' criteria: new keys first, then stale keys dropped, then the guard bits; a task that
    /// execs meanwhile meets the old list or the new one, never an empty one.
    ///
    /// - Throws: `PolicyError` for an executable or cgroup that is gone (file:line:column), `GuardError`.
    func program(_ guards: [DaemonGuard]) throws {
        var keys: [[[UInt8]: UInt64]] = Array(repeating: [:], count: Int(CG_WATCH_KINDS.rawValue))
        var conf = cg_watch_conf()
        var any: [UInt64] = [0, 0, 0, 0]
        for g in guards {
            let bit: UInt64 = 1 << UInt64(g.bit)
            conf.guards |= bit
            if g.argv != nil { conf.confirm |= bit }
            if g.audit { conf.audit |= bit }
            let s = g.spec
            if s.comms.isEmpty { any[0] |= bit }
            for c in s.comms {
                var k = Array(c.utf8.prefix(Int(CG_COMM_LEN) - 1))
                k += Array(repeating: 0, count: Int(CG_COMM_LEN) - k.count)
                keys[0][k, default: 0] |= bit
            }
            if s.exes.isEmpty { any[1] |= bit }
            for (path, at) in s.exes {
                guard let id = ProgramIdentity.identity(of: path) else {
                    throw PolicyError.invalidValue(at, key: "exe", message: "\(path) does not exist")
                }
                keys[1][Self.bytes(of: cg_ident(dev: id.device, ino: id.inode)), default: 0] |= bit
            }
            if s.uids.isEmpty { any[2] |= bit }
            for uid in s.uids { keys[2][Self.bytes(of: uid), default: 0] |= bit }
            if s.cgroups.isEmpty { any[3] |= bit }
            for (path, at) in s.cgroups {
                var st = stat()
                guard stat(path, &st) == 0 else {
                    throw PolicyError.invalidValue(at, key: "cgroup", message: "\(path) does not exist")
                }
                // A cgroup v2 id is its directory's inode number.
                keys[3][Self.bytes(of: UInt64(st.st_ino)), default: 0] |= bit
            }
        }
        conf.any = (any[0], any[1], any[2], any[3])
        for kind in 0..<keys.count {
            for (k, bits) in keys[kind] {
                try syscall("write the daemon's watch list") { cg_watch_put(bpf.handle, UInt32(kind), k, bits) }
            }
            let size = Self.keySize[kind]
            var old = [UInt8](repeating: 0, count: size * 256)
            let n = cg_watch_keys(bpf.handle, UInt32(kind), &old, 256)
            for i in 0..<Int(max(0, n)) {
                let k = Array(old[i * size..<(i + 1) * size])
                if keys[kind][k] == nil { _ = cg_watch_drop(bpf.handle, UInt32(kind), k) }
            }
        }
        try syscall("write the daemon's watch list") { cg_watch_set_conf(bpf.handle, &conf) }
    }

    private static func bytes<T>(of value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// The guard bits the kernel matched when it made `root` a new root; nil when it did not (an older root).
    func adopted(_ root: Int32) -> UInt64? {
        var bits: UInt64 = 0
        return cg_watch_adopted(bpf.handle, UInt32(bitPattern: root), &bits) == 0 ? bits : nil
    }

    /// Marks a root's tree as audited (the kernel signals nothing in it), or not.
    func setAudited(root: Int32, _ audit: Bool) {
        _ = cg_watch_set_audit_root(bpf.handle, UInt32(bitPattern: root), audit)
    }
}

/// What the guards look at in a process that runs already, read from /proc.
struct RunningProcess {
    let pid: Int32
    let comm: String
    /// The executable's identity, and the script's when argv[1] names an absolute file (an interpreter's).
    let identities: [FileIdentity]
    let uid: UInt32
    /// Its cgroup v2 directory (full path).
    let cgroup: String?
    let commandLine: String
    let cwd: String

    init?(_ pid: Int32, cgroupRoot: String) {
        guard let comm = ProcFS.read("/proc/\(pid)/comm"), let status = ProcFS.read("/proc/\(pid)/status") else {
            return nil
        }
        self.pid = pid
        self.comm = comm.hasSuffix("\n") ? String(comm.dropLast()) : comm
        // The real UID, as the kernel side reads it (bpf_get_current_uid_gid).
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
        guard
            let uid = uidLine?.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap({
                UInt32($0)
            })
        else { return nil }
        self.uid = uid
        let argv = (ProcFS.readBytes("/proc/\(pid)/cmdline") ?? []).split(separator: 0).map {
            String(decoding: $0, as: UTF8.self)
        }
        commandLine = argv.joined(separator: " ")
        var ids = [ProgramIdentity.identity(of: "/proc/\(pid)/exe")].compactMap { $0 }
        if argv.count > 1, argv[1].hasPrefix("/"), let script = ProgramIdentity.identity(of: argv[1]) {
            ids.append(script)
        }
        identities = ids
        cgroup = ProcFS.read("/proc/\(pid)/cgroup")?.split(separator: "\n").first { $0.hasPrefix("0::") }
            .map { cgroupRoot + String($0.dropFirst(3)) }
        cwd = realPath("/proc/\(pid)/cwd") ?? "/"
    }

    /// Whether it matches every criterion the guard gives (the kernel's test, and the argv pattern).
    func matches(_ g: DaemonGuard) -> Bool {
        let s = g.spec
        if !s.comms.isEmpty && !s.comms.contains(comm) { return false }
        if !s.exes.isEmpty {
            let wanted = s.exes.compactMap { ProgramIdentity.identity(of: $0.path) }
            guard identities.contains(where: { i in wanted.contains { $0.device == i.device && $0.inode == i.inode } })
            else { return false }
        }
        if !s.uids.isEmpty && !s.uids.contains(uid) { return false }
        if !s.cgroups.isEmpty {
            guard let cg = cgroup, s.cgroups.contains(where: { cg == $0.path || cg.hasPrefix($0.path + "/") })
            else { return false }
        }
        return g.argv?.search(commandLine) ?? true
    }
}

extension Daemon {
    /// Adopts the processes that run already and match a guard (at start and after a reload), with their
    /// descendants, as `-p` seeds a tree. Never the daemon itself, its watchdog or whoever started it.
    func adoptRunning() {
        var mine: Set<Int32> = [getpid()]
        var p = getppid()
        while p > 1, mine.insert(p).inserted { p = ProcFS.parent(of: p) ?? 1 }
        mine.formUnion(ProcFS.descendants(of: getpid()))
        var tracked = Set(bpf.tracked())
        for pid in ProcFS.pids().sorted() where !mine.contains(pid) && !tracked.contains(pid) {
            guard let proc = RunningProcess(pid, cgroupRoot: cgroupRoot),
                let entry = guards.first(where: { proc.matches($0) })
            else { continue }
            do {
                try bpf.track(pid, root: pid)
                for child in ProcFS.descendants(of: pid) where !mine.contains(child) {
                    try bpf.track(child, root: pid)
                    tracked.insert(child)
                }
            } catch {
                say(.error, "pid \(pid) matches \(entry.describe) but cannot be tracked: \(error)")
                continue
            }
            tracked.insert(pid)
            startTree(root: pid, entry: entry, cwd: proc.cwd, uid: proc.uid, comm: proc.comm)
        }
    }
}
