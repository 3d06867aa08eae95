import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Knows which files are the programs a policy names, by identity and by content.
///
/// Every PATH hit of every name of interest is a target: its (device, inode, ctime) goes to the kernel with
/// the program's verdict, so a symlink or hard link is the program without any user-space work. A file that
/// is not a target but has exactly a target's size is compared byte for byte (a renamed copy); the answer is
/// cached per identity, which a rewrite always changes (ctime).
public final class ProgramIdentity {
    public struct Target {
        public var name: String
        public var path: String
        public var identity: FileIdentity
        public var size: Int
    }

    public private(set) var targets: [Target] = []
    private var bySize: [Int: [Int]] = [:]
    private var byIdentity: [FileIdentity: [String]] = [:]
    private var cache: [FileIdentity: [String]] = [:]

    /// Directories searched for the programs of interest, beside this process's PATH.
    static let standardDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    public init(names: Set<String>, paths: Set<String>, searchPath: String?) {
        var dirs = Self.standardDirs
        for d in (searchPath ?? "").split(separator: ":") where !dirs.contains(String(d)) { dirs.append(String(d)) }
        var seen = Set<String>()
        func add(name: String, path: String) {
            guard let real = realPath(path), seen.insert(name + "\0" + real).inserted,
                let (identity, size) = Self.fileInfo(real)
            else { return }
            targets.append(Target(name: name, path: real, identity: identity, size: size))
            bySize[size, default: []].append(targets.count - 1)
            byIdentity[identity, default: []].append(name)
        }
        for name in names.sorted() {
            for dir in dirs { add(name: name, path: dir + "/" + name) }
        }
        for path in paths.sorted() { add(name: String(path.split(separator: "/").last ?? ""), path: path) }
    }

    /// The names of interest the executed file is, by identity or content (empty: none).
    ///
    /// - Parameter exe: a path that opens the executed file itself (`/proc/PID/exe` while the process lives).
    public func names(of identity: FileIdentity, exe: String) -> [String] {
        if let names = byIdentity[identity] { return names }
        if let cached = cache[identity] { return cached }
        var found: [String] = []
        if let (_, size) = Self.fileInfo(exe), let candidates = bySize[size], size > 0 {
            for i in candidates where !found.contains(targets[i].name) && Self.sameContent(exe, targets[i].path, size) {
                found.append(targets[i].name)
            }
        }
        // Only the file itself (/proc/PID/exe) answers for this identity; a path may have been replaced since.
        if identity.inode != 0 && exe.hasPrefix("/proc/") { cache[identity] = found }
        return found
    }

    /// Kernel identity and size of a file (following symlinks).
    static func fileInfo(_ path: String) -> (FileIdentity, Int)? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return (identity(st), Int(st.st_size))
    }

    /// Kernel identity of any file or directory (following symlinks), or nil when it does not exist.
    static func identity(of path: String) -> FileIdentity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return identity(st)
    }

    static func identity(_ st: stat) -> FileIdentity {
        // The kernel keeps s_dev as MKDEV(major, minor) = major << 20 | minor; stat encodes it otherwise.
        let dev = UInt64(st.st_dev)  // glibc's encoding (gnu_dev_major/minor are macros Swift cannot import)
        let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)
        let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff)
        return FileIdentity(
            device: major << 20 | minor, inode: UInt64(st.st_ino), ctimeSec: Int64(st.st_ctim.tv_sec),
            ctimeNsec: UInt32(st.st_ctim.tv_nsec))
    }

    /// Whether two files of the given size hold the same bytes.
    static func sameContent(_ a: String, _ b: String, _ size: Int) -> Bool {
        let fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC)
        defer {
            if fa >= 0 { close(fa) }
            if fb >= 0 { close(fb) }
        }
        guard fa >= 0, fb >= 0 else { return false }
        let chunk = 1 << 16
        var ba = [UInt8](repeating: 0, count: chunk), bb = [UInt8](repeating: 0, count: chunk)
        var total = 0
        while true {
            let na = ba.withUnsafeMutableBytes { readFull(fa, $0.baseAddress!, chunk) }
            let nb = bb.withUnsafeMutableBytes { readFull(fb, $0.baseAddress!, chunk) }
            if na != nb || na < 0 { return false }
            if na == 0 { return total == size }
            if memcmp(ba, bb, na) != 0 { return false }
            total += na
        }
    }

    private static func readFull(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) -> Int {
        var got = 0
        while got < count {
            let n = read(fd, buf + got, count - got)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return -1 }
            if n == 0 { break }
            got += n
        }
        return got
    }
}

