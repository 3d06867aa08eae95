#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `${workspace}` stands for, and the directories it must not silently be.
///
/// By default the workspace is the guarded process's working directory (`check`: this one). Run from `/` or from
/// a home directory, every rule written against the workspace would protect nothing outside it (`rm -rf
/// /srv/victim` from `/`, `rm -rf ~/.ssh` from `~`), so such a default is refused: only `--workspace DIR` may name
/// one, and then with a warning.
public enum Workspace {
    /// Why a workspace is refused or warned about.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// `--workspace DIR` names no directory.
        case missing(String)
        /// The default workspace would be `/`, a home directory or an ancestor of one.
        case tooWide(dir: String, what: String)

        public var description: String {
            switch self {
            case .missing(let dir):
                return "--workspace \(dir): no such directory. Give the project directory the agent works in."
            case .tooWide(let dir, let what):
                return """
                    the workspace would be \(dir) (\(what)), the directory this was started in: rules written \
                    against ${workspace} would then protect nothing in it. Start from the project directory, or \
                    give it with --workspace DIR (--workspace \(dir) if you really mean it).
                    """
            }
        }
    }

    /// The home directories a workspace must not contain: `$HOME`, the invoking user's behind sudo
    /// (`SUDO_UID`), and those of `uids` (the guarded process's owner).
    public static func homes(uids: [UInt32] = []) -> [String] {
        var out: [String] = []
        func add(_ h: String?) {
            guard let h, h.hasPrefix("/") else { return }
            let n = realPath(h) ?? Paths.normalize(h)
            if !out.contains(n) { out.append(n) }
        }
        add(getenv("HOME").map { String(cString: $0) })
        var all = uids
        if let s = getenv("SUDO_UID"), let u = UInt32(String(cString: s)) { all.append(u) }
        all.append(getuid())
        for u in all { add(getpwuid(u).flatMap { $0.pointee.pw_dir.map { String(cString: $0) } }) }
        return out
    }

    /// Why `dir` (absolute and normal) is too wide for a workspace nobody named, or nil when it is fine.
    public static func objection(_ dir: String, homes: [String]) -> String? {
        if dir == "/" { return "the whole file system" }
        for h in homes where h != "/" {
            if h == dir { return "a home directory" }
            if Paths.isUnder(h, dir) { return "an ancestor of the home directory \(h)" }
        }
        return nil
    }

    /// The workspace to use: `given` (`--workspace`, made absolute against `cwd`) when there is one, else the
    /// default `fallback` (the guarded process's working directory).
    ///
    /// - Returns: the workspace's real path, and a warning when `--workspace` names a directory a default
    ///   would have been refused for.
    /// - Throws: `Workspace.Problem`: `--workspace` names no directory, or the default is too wide.
    ///
    /// `strict` false (a policy that does not use `${workspace}`): a default is not refused.
    public static func resolve(
        given: String?, fallback: String, cwd: String, homes: [String], strict: Bool = true
    ) throws(Problem) -> (path: String, warning: String?) {
        if let given {
            let absolute = given.hasPrefix("/") ? given : Paths.absolute(given, cwd: cwd)
            var st = stat()
            guard stat(absolute, &st) == 0, st.st_mode & S_IFMT == S_IFDIR, let real = realPath(absolute) else {
                throw .missing(given)
            }
            let why = objection(real, homes: homes)
            return (real, why.map { "--workspace \(real) is \($0): ${workspace} rules protect nothing in it" })
        }
        let real = realPath(fallback) ?? Paths.normalize(fallback)
        if strict, let why = objection(real, homes: homes) { throw .tooWide(dir: real, what: why) }
        return (real, nil)
    }
}

extension Policy {
    /// Whether some rule or file rule is written against `${workspace}` (a workspace matters to it at all).
    public var usesWorkspace: Bool {
        func uses(_ m: CompiledMatch) -> Bool {
            m.under.contains { $0.workspaceRelative } || m.outside.contains { $0.workspaceRelative }
                || m.pipeline.contains(where: uses) || m.parent.contains(where: uses)
        }
        return rules.contains { uses($0.match) }
            || fileRules.contains { r in
                r.underPatterns.contains { $0.workspaceRelative } || r.outsidePatterns.contains { $0.workspaceRelative }
            }
    }
}
