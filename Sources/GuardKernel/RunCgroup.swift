import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// A cgroup v2 of its own for the tree `run` launches, so its end is race-free: `cgroup.kill` kills every
/// process in it, including one forked while the kill is under way (a tree that keeps forking new PIDs
/// outruns a PID-by-PID sweep). Found on the unified hierarchy wherever it is mounted (`/sys/fs/cgroup`, or
/// `/sys/fs/cgroup/unified` in hybrid mode); without one, the tracked-map sweep alone ends the tree.
final class RunCgroup {
    let path: String

    /// Creates `claude-guard-<guard pid>` beside this process's cgroup v2 root and moves `pid` into it.
    ///
    /// - Returns: nil when no cgroup v2 hierarchy is mounted or the kernel refuses (the reason in `why`).
    init?(moving pid: Int32, why: inout String) {
        guard let root = Self.unifiedMount() else {
            why = "no cgroup v2 hierarchy is mounted"
            return nil
        }
        Self.removeStale(in: root)
        path = root + "/claude-guard-\(getpid())-\(pid)"
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            why = "mkdir \(path): \(String(cString: strerror(errno)))"
            return nil
        }
        guard Self.write("\(pid)", to: path + "/cgroup.procs") else {
            why = "moving the command into \(path): \(String(cString: strerror(errno)))"
            rmdir(path)
            return nil
        }
        guard access(path + "/cgroup.kill", F_OK) == 0 else {
            why = "this kernel has no cgroup.kill (Linux 5.14+)"
            remove()
            return nil
        }
    }

    /// Kills every process of the cgroup (race-free with forks) and waits up to `timeoutMs` for it to empty.
    ///
    /// - Returns: whether it is empty.
    @discardableResult
    func killAll(timeoutMs: Int = 2000) -> Bool {
        _ = Self.write("1", to: path + "/cgroup.kill")
        for _ in 0..<(timeoutMs / 10) {
            if !populated { return true }
            usleep(10_000)
        }
        return !populated
    }

    /// Whether any process is in the cgroup.
    var populated: Bool {
        guard let events = ProcFS.read(path + "/cgroup.events") else { return false }
        return events.split(separator: "\n").contains("populated 1")
    }

    /// Removes the cgroup once it is empty (its last processes may still be exiting), waiting at most
    /// `timeoutMs`; a cgroup still in use is left (a later guard's start removes it once empty).
    func remove(timeoutMs: Int = 1000) {
        for _ in 0...(timeoutMs / 10) {
            if rmdir(path) == 0 || errno == ENOENT { return }
            usleep(10_000)
        }
    }

    /// Removes the empty cgroups of guards that are gone (killed before they could remove their own).
    static func removeStale(in root: String) {
        for name in ProcFS.entries(of: root) where name.hasPrefix("claude-guard-") {
            let parts = name.split(separator: "-")
            guard parts.count == 4, let guardPid = Int32(parts[2]), !ProcFS.exists(guardPid) else { continue }
            rmdir(root + "/" + name)  // fails (EBUSY) while a process of it lives
        }
    }

    /// The mount point of the cgroup v2 (unified) hierarchy, from /proc/self/mountinfo.
    static func unifiedMount() -> String? {
        for line in (ProcFS.read("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            // ... mount-point ... - fstype source options
            guard let dash = parts.firstIndex(of: "-"), dash + 1 < parts.count, parts[dash + 1] == "cgroup2",
                parts.count > 4
            else { continue }
            return String(parts[4])
        }
        return nil
    }

    private static func write(_ s: String, to file: String) -> Bool {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return s.withCString { Glibc.write(fd, $0, strlen($0)) } == s.utf8.count
    }
}
