#if canImport(Glibc)
    import Glibc
#endif

/// The one `PATH` lookup, as execvp(3) makes it: the directories of `PATH` in order, an empty entry standing for
/// the working directory, the first regular file that may be executed wins. The policy core resolves the
/// commands it judges with it; the kernel side resolves the command `run` starts and lists the directories whose
/// programs it knows by content.
public enum SearchPath {
    /// `PATH` when the environment has none (the directories a login shell's default lists).
    public static let standard = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// This process's `PATH`, or `standard`.
    public static var current: String { getenv("PATH").map { String(cString: $0) } ?? standard }

    /// The directories of `path` in order; an empty entry is `""`, the working directory.
    public static func directories(_ path: String) -> [String] {
        path.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }

    /// The file execvp would run for `name`: itself when it has a `/`, else the first executable regular file
    /// `DIR/name` over `path` (an empty entry resolved against `cwd`, this process's working directory when nil).
    public static func find(_ name: String, path: String = current, cwd: String? = nil) -> String? {
        if name.utf8.contains(UInt8(ascii: "/")) { return name }
        guard !name.isEmpty else { return nil }
        for dir in directories(path) {
            let base = dir.isEmpty ? (cwd ?? ".") : dir
            let candidate = (base.hasSuffix("/") ? base : base + "/") + name
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    /// Whether `path` is a regular file this process may execute (a directory with its search bit is not).
    public static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }
}
