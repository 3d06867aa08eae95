import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Knows which files are the programs a policy names, by identity and by content.
///
/// Every PATH hit of every name of interest is a target: its (device, inode, ctime) goes to the kernel with
/// the program's verdict, so a symlink or hard link is the program without any user-space work. A file that
/// is not a target is compared with them, and the answer cached per identity, which a rewrite always changes
/// (ctime): a file of a target's size byte for byte (a renamed copy); an ELF file by its build-id (a copy with
/// bytes appended or its data patched), else by its executable segment (one whose build-id note was patched or
/// stripped too). With `runners`, the runners of `Runners.directories` (the dynamic loader, valgrind's tools)
/// are targets as well.
public final class ProgramIdentity {
    public struct Target {
        public var name: String
        public var path: String
        public var identity: FileIdentity
        public var size: Int
        var elf: ElfIdentity?
    }

    public private(set) var targets: [Target] = []
    private var bySize: [Int: [Int]] = [:]
    private var byIdentity: [FileIdentity: [String]] = [:]
    private var byBuildID: [[UInt8]: [Int]] = [:]
    private var byCodeSize: [Int: [Int]] = [:]
    private var cache: [FileIdentity: [String]] = [:]

    /// Directories searched for the programs of interest, beside this process's PATH.
    static let standardDirs = SearchPath.directories(SearchPath.standard)

    public init(names: Set<String>, paths: Set<String>, searchPath: String?, runners: Bool = false) {
        var dirs = Self.standardDirs
        for d in SearchPath.directories(searchPath ?? "") where !d.isEmpty && !dirs.contains(d) { dirs.append(d) }
        var seen = Set<String>()
        func add(name: String, path: String) {
            guard let real = realPath(path), seen.insert(name + "\0" + real).inserted,
                let (identity, size) = Self.fileInfo(real)
            else { return }
            let fd = open(real, O_RDONLY | O_CLOEXEC)
            let elf = fd >= 0 ? ElfIdentity.read(fd: fd) : nil
            if fd >= 0 { close(fd) }
            targets.append(Target(name: name, path: real, identity: identity, size: size, elf: elf))
            let k = targets.count - 1
            bySize[size, default: []].append(k)
            byIdentity[identity, default: []].append(name)
            if let id = elf?.buildID { byBuildID[id, default: []].append(k) }
            if let code = elf?.codeSize, code > 0 { byCodeSize[code, default: []].append(k) }
        }
        for name in names.sorted() {
            for dir in dirs { add(name: name, path: dir + "/" + name) }
        }
        for path in paths.sorted() { add(name: String(path.split(separator: "/").last ?? ""), path: path) }
        guard runners else { return }
        // Runners by what their names look like, wherever they are (ld-linux-*.so.*, qemu-*, TOOL-ARCH-linux):
        // each directory listed once (/bin and /usr/bin are often one).
        var listed = Set<String>()
        for dir in dirs + ProgramRunners.directories {
            guard let real = realPath(dir), listed.insert(real).inserted else { continue }
            for name in Self.runnerEntries(real) { add(name: name, path: real + "/" + name) }
        }
    }

    /// The names in a directory that are runners; a name is made a String only when its bytes may be one
    /// (`ld…`, `q…`, `v…`, `b…`, `F…`, `…-linux`): the loader's directory holds a thousand libraries.
    static func runnerEntries(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let entry = readdir(d) {
            // In place: a dirent is only as long as its name, so a copy of the whole d_name array can read past
            // the end of readdir's buffer (a crash when the entry ends a page).
            let name = withUnsafeMutablePointer(to: &entry.pointee.d_name) { tuple -> String? in
                let base = UnsafeRawPointer(tuple).assumingMemoryBound(to: UInt8.self)
                let n = strlen(UnsafeRawPointer(tuple).assumingMemoryBound(to: CChar.self))
                guard n > 1 else { return nil }
                let first = base[0]
                let tool = n > 6 && memcmp(base + n - 6, "-linux", 6) == 0
                guard
                    tool || (first == 0x6C && base[1] == 0x64) || first == 0x71 || first == 0x76 || first == 0x62
                        || first == 0x46
                else { return nil }
                return String(decoding: UnsafeBufferPointer(start: base, count: n), as: UTF8.self)
            }
            if let name, ProgramRunners.isRunner(name) { out.append(name) }
        }
        return out.sorted()
    }

    /// The names of interest the executed file is, by identity or content (empty: none).
    ///
    /// - Parameter exe: a path that opens the executed file itself (`/proc/PID/exe` while the process lives).
    public func names(of identity: FileIdentity, exe: String) -> [String] {
        if let names = byIdentity[identity] { return names }
        if let cached = cache[identity] { return cached }
        var found: [String] = []
        var itself = exe.hasPrefix("/proc/")
        if let (id, size) = Self.fileInfo(exe), size > 0 {
            // A path whose file still has the executed file's identity (device, inode, ctime) is that file.
            itself = itself || id == identity
            for i in bySize[size] ?? [] where !found.contains(targets[i].name) {
                if Self.sameContent(exe, targets[i].path, size) { found.append(targets[i].name) }
            }
            if found.isEmpty { found = sameProgram(exe) }
        }
        // Only the file itself answers for this identity; a path may have been replaced since. (An exec read after
        // its short-lived process is gone, as most are in audit mode, comes with its path: without this cache each
        // such exec re-read its ELF headers.)
        if identity.inode != 0 && itself { cache[identity] = found }
        return found
    }

    /// The names of interest of the file at `path` (what a runner loads: `ld.so /tmp/x`), by identity or content.
    ///
    /// The file is opened once and judged through that descriptor, so its identity and its bytes are the same
    /// file's (the answer may be cached) even if the path is replaced meanwhile.
    public func names(ofPath path: String) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return [] }
        return names(of: Self.identity(st), exe: "/proc/self/fd/\(fd)")
    }

    /// The targets an ELF file is the same program as: the same build-id, else the same executable segment.
    private func sameProgram(_ path: String) -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        guard let elf = ElfIdentity.read(fd: fd) else { return [] }
        var found: [String] = []
        if let id = elf.buildID {
            for i in byBuildID[id] ?? [] where !found.contains(targets[i].name) { found.append(targets[i].name) }
        }
        if !found.isEmpty { return found }
        for i in byCodeSize[elf.codeSize] ?? [] where !found.contains(targets[i].name) {
            guard let other = targets[i].elf else { continue }
            let tfd = open(targets[i].path, O_RDONLY | O_CLOEXEC)
            guard tfd >= 0 else { continue }
            if ElfIdentity.sameCode(fd, elf, tfd, other) { found.append(targets[i].name) }
            close(tfd)
        }
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
            let na = ba.withUnsafeMutableBytes { $0.baseAddress.map { readFull(fa, $0, chunk) } ?? -1 }
            let nb = bb.withUnsafeMutableBytes { $0.baseAddress.map { readFull(fb, $0, chunk) } ?? -1 }
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
