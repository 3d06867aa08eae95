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
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
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

    /// Process state letter (R, S, T, Z …) from /proc/PID/stat.
    public static func state(of pid: Int32) -> Character? {
        guard let stat = readBytes("/proc/\(pid)/stat", limit: 4096),
            let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count
        else { return nil }
        return Character(Unicode.Scalar(stat[close + 2]))
    }

    /// The file execvp would run for name: itself when it has a '/', else the first executable PATH hit.
    public static func which(_ name: String, path: String? = nil) -> String? {
        if name.contains("/") { return name }
        let env = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        let dirs = (path ?? env)
            .split(separator: ":", omittingEmptySubsequences: false)
        for dir in dirs {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }
}
