/// Libraries the dynamic loader runs before a program's own code because its environment names them
/// (`LD_PRELOAD`, `LD_AUDIT`), and which of them come from outside the system's library directories
/// (`settings.preload`, issue 12 class 3).
///
/// A preload's constructor runs before `main` and can rewrite the argv the guard judged (`rm -vv V` becomes
/// `rm -rf V`). One in a system library directory is part of the installed system (libc's own, a sanitizer
/// runtime, libfaketime); one anywhere else is code the tree could have written.
public enum LoaderLibraries {
    /// The system's library directories: what the loader itself searches by default and what distributions
    /// install libraries into (multiarch subdirectories such as /usr/lib/x86_64-linux-gnu are below them).
    /// /usr/local/lib is not one: it is the local administrator's, often writable by a developer's group.
    public static let systemDirectories = [
        "/lib", "/lib32", "/lib64", "/libx32", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32",
    ]

    /// What the loader does with a library found at a path: its real path, and whether root owns it and
    /// nobody else may write it.
    public struct Found: Sendable, Equatable {
        public var realPath: String
        public var rootOwnedReadOnly: Bool
        public init(realPath: String, rootOwnedReadOnly: Bool) {
            self.realPath = realPath
            self.rootOwnedReadOnly = rootOwnedReadOnly
        }
    }

    /// The library names in `LD_PRELOAD=...` and `LD_AUDIT=...` strings: ld.so splits LD_PRELOAD at spaces and
    /// colons, LD_AUDIT at colons; empty names are skipped. Other strings are ignored.
    public static func names(_ entries: [String]) -> [String] {
        var out: [String] = []
        for entry in entries {
            if entry.hasPrefix("LD_PRELOAD=") {
                out += entry.dropFirst(11).split(whereSeparator: { $0 == " " || $0 == ":" }).map(String.init)
            } else if entry.hasPrefix("LD_AUDIT=") {
                out += entry.dropFirst(9).split(separator: ":").map(String.init)
            }
        }
        return out
    }

    /// Whether a path, as text, lies in a system library directory: absolute, with no `.`, `..` or `$` (the
    /// loader's $ORIGIN, $LIB, $PLATFORM) in it, so no later change outside those directories can redirect it.
    public static func isSystemText(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.contains("$") else { return false }
        let parts = path.split(separator: "/")
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else { return false }
        let clean = "/" + parts.joined(separator: "/")
        return systemDirectories.contains { clean.hasPrefix($0 + "/") }
    }

    /// The libraries among `names` that come from outside the system's library directories.
    ///
    /// A name with `/` is judged by its text and by the file it resolves to (`resolve`: the path as the process
    /// sees it; nil when there is no such file, which the tree could still create before the loader looks). A
    /// bare name is searched by the loader over LD_LIBRARY_PATH before its cache and the system directories, so
    /// it is outside when `libraryPath` names a directory that is not a system one.
    public static func outside(_ names: [String], libraryPath: String?, resolve: (String) -> Found?) -> [String] {
        let searchOutside =
            (libraryPath ?? "").split(separator: ":", omittingEmptySubsequences: false)
            .contains { !isSystemText(String($0) + "/x") }
            && !(libraryPath ?? "").isEmpty
        return names.filter { name in
            guard name.contains("/") else { return searchOutside || name.contains("$") }
            guard isSystemText(name), let found = resolve(name) else { return true }
            return !found.rootOwnedReadOnly || !isSystemText(found.realPath)
        }
    }
}
