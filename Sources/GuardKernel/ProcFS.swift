#if canImport(Glibc)
    import Glibc
#endif

/// Small readers of /proc, used to seed the tracked set and to describe processes.
public enum ProcFS {
    /// The whole file as text, or nil.
    public static func read(_ path: String) -> String? {
        guard let bytes = readBytes(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The whole file as bytes, or nil.
    public static func readBytes(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < limit {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    /// Whether a process with this PID exists.
    public static func exists(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// The parent PID of a process, from /proc/PID/stat.
    public static func parent(of pid: Int32) -> Int32? {
        guard let stat = readBytes("/proc/\(pid)/stat", limit: 4096) else { return nil }
        // "pid (comm) S ppid ..." — comm may hold spaces and parentheses: split after the last ')'.
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 1 else { return nil }
        return Int32(String(decoding: fields[1], as: UTF8.self))
    }

    /// Every PID in /proc (thread group leaders).
    public static func pids() -> [Int32] { entries(of: "/proc").compactMap { Int32($0) } }

    /// Names in a directory, without "." and ".."; empty when it cannot be read.
    public static func entries(of path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            // In place: a dirent is only as long as its name, so a copy of the whole d_name array can read past
            // the end of readdir's buffer.
            let name = withUnsafeMutablePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    /// All descendants of root that exist now (not root itself), from /proc.
    public static func descendants(of root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for pid in pids() {
            if let ppid = parent(of: pid) { children[ppid, default: []].append(pid) }
        }
        var out: [Int32] = []
        var queue = children[root] ?? []
        var seen: Set<Int32> = [root]
        while let pid = queue.popLast() {
            guard seen.insert(pid).inserted else { continue }
            out.append(pid)
            queue.append(contentsOf: children[pid] ?? [])
        }
        return out
    }

    /// The fields of /proc/PID/stat after the command name (state is [0], ppid [1], pgrp [2], session [3]).
    static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// The session id of a process.
    public static func session(of pid: Int32) -> Int32? {
        statFields(of: pid).flatMap { $0.count > 3 ? Int32($0[3]) : nil }
    }

    /// Every process of the same session as pid (a daemon the agent started before attach, reparented
    /// to init, is still in its session unless it called setsid).
    ///
    /// - Returns: nil when that session is the guard's own (it would guard itself and whoever started it).
    public static func sessionMembers(of pid: Int32) -> [Int32]? {
        guard let sid = session(of: pid), sid > 1, sid != getsid(0) else { return nil }
        return pids().filter { $0 != pid && session(of: $0) == sid }
    }

    /// Every process in a cgroup v2 directory and the cgroups below it.
    public static func cgroupMembers(_ dir: String) -> [Int32] {
        var out: [Int32] = []
        var queue = [dir]
        while let d = queue.popLast() {
            for line in (read(d + "/cgroup.procs") ?? "").split(separator: "\n") {
                if let p = Int32(line) { out.append(p) }
            }
            for e in entries(of: d) where access(d + "/" + e + "/cgroup.procs", F_OK) == 0 { queue.append(d + "/" + e) }
        }
        return out
    }

    /// Process state letter (R, S, T, Z …): the one reader of it is `stateAndSigchld`.
    public static func state(of pid: Int32) -> Character? { stateAndSigchld(of: pid)?.state }

    /// A process's state letter and whether a SIGCHLD is pending for it (queued to it or to its main thread),
    /// from one read of /proc/PID/status: a parent that blocks SIGCHLD and reads it later (signalfd, sigwait)
    /// has not yet heard of its child's last change.
    public static func stateAndSigchld(of pid: Int32) -> (state: Character, sigchld: Bool)? {
        guard let status = read("/proc/\(pid)/status") else { return nil }
        var state: Character?
        var sigchld = false
        for line in status.split(separator: "\n") {
            if line.hasPrefix("State:") {
                state = line.dropFirst(6).first { $0 != " " && $0 != "\t" }
            } else if line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") {
                let hex = String(line.dropFirst(7).filter(\.isHexDigit))
                if let mask = UInt64(hex, radix: 16), mask & (1 << (UInt64(SIGCHLD) - 1)) != 0 { sigchld = true }
                if line.hasPrefix("ShdPnd:") { break }
            }
        }
        return state.map { ($0, sigchld) }
    }

    /// Where the process sleeps in the kernel (/proc/PID/wchan), e.g. "do_wait".
    public static func wchan(of pid: Int32) -> String? { read("/proc/\(pid)/wchan") }

    /// Why the tree of `pid` is the whole system (`PID 1`, `the init of a PID namespace`), or nil.
    public static func wholeSystem(_ pid: Int32) -> String? {
        if pid == 1 { return "PID 1, the init of the system" }
        // NSpid's last field is the PID in the process's own namespace: 1 is a container's init.
        for line in (read("/proc/\(pid)/status") ?? "").split(separator: "\n") where line.hasPrefix("NSpid:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count > 2, fields.last == "1" { return "the init of a PID namespace (a container's PID 1)" }
        }
        return nil
    }

    /// The uid that owns a process.
    public static func owner(of pid: Int32) -> UInt32? {
        var st = stat()
        return stat("/proc/\(pid)", &st) == 0 ? st.st_uid : nil
    }
}
