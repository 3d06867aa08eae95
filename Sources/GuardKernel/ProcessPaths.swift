import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Path operands resolved as the kernel resolves them for one process: from its root (/proc/PID/root, which
/// keeps its mount namespace: a bind mount made after `unshare -m` is seen) and its working directory (checked
/// against /proc/PID/cwd). Read while the process is held, so what it names cannot be swapped by that process;
/// opened on first use (most execs meet no `paths` rule).
final class ProcessPaths: PathResolving {
    private let pid: Int32
    private let cwd: String?
    private lazy var walker: PathWalker? = {
        let root = open("/proc/\(pid)/root", PathWalker.oPath | O_CLOEXEC)
        // Gone already (an exec not held): the guard's own view is the best left.
        guard root >= 0 else { return PathWalker(cwd: cwd) }
        var st = stat()
        let key =
            stat("/proc/\(pid)/cwd", &st) == 0 ? FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) : nil
        return PathWalker(root: root, cwd: cwd, cwdKey: key)
    }()

    init(pid: Int32, cwd: String?) {
        self.pid = pid
        self.cwd = cwd
    }

    func resolve(_ word: String, cwd: String?, follow: Bool) -> ResolvedPath? {
        walker?.resolve(word, cwd: cwd, follow: follow)
    }

    func identity(of path: String) -> FileKey? { walker?.identity(of: path) }
}
