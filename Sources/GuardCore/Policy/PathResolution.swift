#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A file's identity: its device and inode.
public struct FileKey: Hashable, Sendable {
    public var dev: UInt64
    public var ino: UInt64

    public init(dev: UInt64, ino: UInt64) {
        self.dev = dev
        self.ino = ino
    }
}

/// A path as the kernel resolves it for one process: each existing component from its root down (symlinks
/// followed, `..` taken after them, as the kernel takes it), with the identity and mount of each, then the
/// components that do not exist (yet).
public struct ResolvedPath: Sendable {
    public struct Step: Sendable {
        /// The component's name ("" for the root).
        public var name: String
        public var key: FileKey
        /// The mount it lies on (statx `STATX_MNT_ID`; 0 when the kernel does not say).
        public var mount: UInt64
    }

    /// The root first, then each existing component.
    public var steps: [Step]
    /// Components past the last existing one, as written.
    public var missing: [String]

    /// The component names below the root.
    var names: [String] { steps.dropFirst().map(\.name) + missing }

    /// The resolved path as text (the process's view of it, from its root).
    public var text: String { "/" + names.joined(separator: "/") }
}

/// How path operands are resolved for the `paths` key: as the kernel resolves them for the process being judged
/// (the live guard's, over /proc/PID/root and its cwd) or for this process (`check`, `test`).
public protocol PathResolving: AnyObject {
    /// `word` (absolute, or relative to `cwd`, or to the process's own directory when `cwd` is nil) resolved;
    /// `follow`: a final symlink is followed (a trailing `/` always follows). Nil when it cannot be resolved
    /// (a loop of symlinks, an unknown directory, a directory the process no longer has).
    func resolve(_ word: String, cwd: String?, follow: Bool) -> ResolvedPath?
    /// The identity of `path` as the guard itself sees it: what a rule that names a tree means by it.
    func identity(of path: String) -> FileKey?
}

/// Resolves paths from a root directory (a descriptor: `/`, or a process's /proc/PID/root, which keeps that
/// process's mount namespace) one component at a time, as the kernel does: a symlink's target is read and
/// resolved in its place (an absolute one from the same root), `..` goes to the parent of what was reached.
public final class PathWalker: PathResolving {
    private let root: Int32
    /// The process's working directory as text, and its identity when known (checked before it is trusted).
    private let cwd: String?
    private let cwdKey: FileKey?

    /// Takes ownership of `root` (an `O_PATH` descriptor).
    public init(root: Int32, cwd: String?, cwdKey: FileKey?) {
        self.root = root
        self.cwd = cwd
        self.cwdKey = cwdKey
    }

    /// This process's own view: its root and `cwd` as given.
    public convenience init?(cwd: String?) {
        let fd = open("/", PathWalker.oPath | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        self.init(root: fd, cwd: cwd, cwdKey: nil)
    }

    deinit { close(root) }

    /// open(2)'s `O_PATH` and readlinkat's empty-path use, which Swift's Glibc module does not declare.
    public static let oPath: Int32 = 0o10_000_000

    public func identity(of path: String) -> FileKey? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
    }

    public func resolve(_ word: String, cwd given: String?, follow: Bool) -> ResolvedPath? {
        if word.hasPrefix("/") { return walk(word, follow: follow) }
        guard let base = given ?? cwd else { return nil }
        if base == cwd, let cwdKey {
            // The process's directory as text: trusted only when it still resolves to the directory it has.
            guard let c = walk(base, follow: true), c.missing.isEmpty, c.steps.last?.key == cwdKey else { return nil }
        }
        return walk(base + "/" + word, follow: follow)
    }

    /// Symlinks followed in one resolution before giving up, as the kernel's ELOOP.
    static let maxLinks = 40

    private func walk(_ path: String, follow: Bool) -> ResolvedPath? {
        let followLast = follow || path.hasSuffix("/") || path.hasSuffix("/.")
        var pending = Array(path.split(separator: "/").reversed())
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        let r = dup(root)
        guard r >= 0, let rootStep = PathWalker.step("", r) else {
            if r >= 0 { close(r) }
            return nil
        }
        fds.append(r)
        var steps = [rootStep]
        var missing: [String] = []
        var links = 0
        while let c = pending.popLast() {
            if c == "." { continue }
            if c == ".." {
                if !missing.isEmpty {
                    missing.removeLast()
                } else if steps.count > 1 {
                    steps.removeLast()
                    close(fds.removeLast())
                }
                continue
            }
            let name = String(c)
            if !missing.isEmpty {
                missing.append(name)
                continue
            }
            let fd = openat(fds[fds.count - 1], name, PathWalker.oPath | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                missing.append(name)
                continue
            }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                close(fd)
                return nil
            }
            if st.st_mode & S_IFMT == S_IFLNK && (!pending.isEmpty || followLast) {
                links += 1
                let target = PathWalker.readLink(fd)
                close(fd)
                guard links <= PathWalker.maxLinks, let target else { return nil }
                if target.hasPrefix("/") {
                    while fds.count > 1 { close(fds.removeLast()) }
                    steps.removeSubrange(1...)
                }
                pending.append(contentsOf: target.split(separator: "/").reversed())
                continue
            }
            guard let s = PathWalker.step(name, fd, st) else {
                close(fd)
                return nil
            }
            fds.append(fd)
            steps.append(s)
        }
        return ResolvedPath(steps: steps, missing: missing)
    }

    private static func step(_ name: String, _ fd: Int32) -> ResolvedPath.Step? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return step(name, fd, st)
    }

    private static func step(_ name: String, _ fd: Int32, _ st: stat) -> ResolvedPath.Step? {
        ResolvedPath.Step(
            name: name, key: FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)), mount: mountID(fd))
    }

    /// The target of the symlink open as `fd` (`O_PATH`).
    private static func readLink(_ fd: Int32) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(fd, "", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// statx(2), which Swift's Glibc module does not declare: looked up once from the C library.
    private typealias Statx =
        @convention(c) (Int32, UnsafePointer<CChar>, Int32, UInt32, UnsafeMutableRawPointer) ->
        Int32
    private static let statx: Statx? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "statx").map {
        unsafeBitCast($0, to: Statx.self)
    }

    /// The mount `fd` lies on: a bind mount of one directory onto another has the directory's device and inode
    /// but is a different mount. 0 when the kernel does not say.
    static func mountID(_ fd: Int32) -> UInt64 {
        guard let statx else { return 0 }
        // struct statx: stx_mask at 0, stx_mnt_id at 144; 256 bytes in all.
        return withUnsafeTemporaryAllocation(byteCount: 256, alignment: 8) { buf -> UInt64 in
            guard let base = buf.baseAddress else { return 0 }
            memset(base, 0, 256)
            let statxMountID: UInt32 = 0x1000, atEmptyPath: Int32 = 0x1000
            guard statx(fd, "", atEmptyPath, statxMountID, base) == 0,
                base.load(as: UInt32.self) & statxMountID != 0
            else { return 0 }
            return base.load(fromByteOffset: 144, as: UInt64.self)
        }
    }
}

extension Evaluator {
    /// Programs that act on a symlink operand itself, not on what it points to (unless written with a trailing
    /// `/`): `rm -rf scratch/link` removes the link.
    static let actOnLinks: Set<String> = ["rm", "unlink", "rmdir", "mv"]

    /// `paths` judged over operands resolved as the kernel resolves them for the process (`resolver`); nil
    /// when the text decides (an operand against an unknown directory).
    ///
    /// A path is inside a listed tree in two senses. Wholly inside (what an allow rule needs, and what an acting
    /// `outside` rule needs to hold back): its resolved path is under the tree, the tree's top as the process
    /// reaches it is the very directory the guard sees there (device and inode), and no mount lies between (a
    /// bind mount of another tree inside scratch is not scratch). Reaching it (what an acting `under` rule
    /// needs): the text or the resolved path is under it, or an ancestor is the tree's top by device and inode
    /// (a bind mount of `~/.ssh` elsewhere is still `~/.ssh`).
    func resolvedPathsMatch(
        _ m: CompiledMatch, _ ctx: borrowing ExecContext, _ f: inout Facts, _ resolver: any PathResolving
    ) -> Bool? {
        guard let paths = f.operandPaths(ctx) else { return nil }
        if paths.isEmpty { return false }
        let words = f.operandWords
        guard words.count == paths.count else { return nil }
        let ws = ctx.workspace.map(Paths.normalize)
        let follow = !f.names.contains { Evaluator.actOnLinks.contains($0) }
        let cwd = ctx.cwdUnknown ? nil : (ctx.cwd ?? ctx.workspace)
        var underAll = true, underHit = false, outsideAll = true, outsideHit = false
        for (k, word) in words.enumerated() {
            let r = resolver.resolve(word, cwd: cwd, follow: follow)
            func inside(_ pats: [PathPattern], strict: Bool) -> Bool {
                pats.contains { pat in
                    if strict {
                        guard let r else { return false }
                        return Evaluator.wholly(pat, r, ws, resolver)
                    }
                    if pat.contains(paths[k], workspace: ws) == true { return true }
                    guard let r else { return false }
                    return pat.contains(r.text, workspace: ws) == true || Evaluator.reaches(pat, r, ws, resolver)
                }
            }
            if !m.under.isEmpty {
                if inside(m.under, strict: m.everyPath) { underHit = true } else { underAll = false }
            }
            if !m.outside.isEmpty {
                if !inside(m.outside, strict: !m.everyPath) { outsideHit = true } else { outsideAll = false }
            }
        }
        if !m.under.isEmpty && !(m.everyPath ? underAll : underHit) { return false }
        if !m.outside.isEmpty && !(m.everyPath ? outsideAll : outsideHit) { return false }
        return true
    }

    /// `r` lies wholly inside `pat`'s tree: see `resolvedPathsMatch`.
    static func wholly(_ pat: PathPattern, _ r: ResolvedPath, _ ws: String?, _ resolver: any PathResolving) -> Bool {
        // The tree's top by identity (its text may name it through a symlink: a workspace under a linked /home).
        if let i = topIndex(pat, r, ws, resolver), noMount(below: i, r) { return true }
        // Else by text: the shortest prefix of the resolved path the pattern holds.
        let names = r.names
        var k = 0
        var prefix = "/"
        while pat.contains(prefix, workspace: ws) != true {
            if k == names.count { return false }
            prefix = k == 0 ? "/" + names[0] : prefix + "/" + names[k]
            k += 1
        }
        // A top that does not exist holds nothing yet: the text decides.
        guard k < r.steps.count else { return true }
        guard let seen = resolver.identity(of: prefix), seen == r.steps[k].key else { return false }
        return noMount(below: k, r)
    }

    /// No step below `r.steps[k]` lies on another mount (or device).
    private static func noMount(below k: Int, _ r: ResolvedPath) -> Bool {
        let top = r.steps[k]
        for s in r.steps[(k + 1)...] where s.mount != top.mount || s.key.dev != top.key.dev { return false }
        return true
    }

    /// An ancestor of `r` (or `r`) is the top of `pat`'s tree by device and inode, and the rest of the path
    /// from there is in the pattern: see `resolvedPathsMatch`.
    static func reaches(_ pat: PathPattern, _ r: ResolvedPath, _ ws: String?, _ resolver: any PathResolving) -> Bool {
        topIndex(pat, r, ws, resolver) != nil
    }

    /// The step of `r` that is the literal directory `pat` starts with (as the guard sees it, by device and
    /// inode), when the names below it are in the pattern.
    private static func topIndex(
        _ pat: PathPattern, _ r: ResolvedPath, _ ws: String?, _ resolver: any PathResolving
    ) -> Int? {
        guard let text = FileRule.text(pat, workspace: ws) else { return nil }
        // The literal directory the pattern starts with.
        var top: Substring = Substring(text)
        if let meta = text.firstIndex(where: { c in c == "*" || c == "?" || c == "[" || c == "\\" }) {
            top = text[..<meta]
            if let slash = top.lastIndex(of: "/") { top = top[..<slash] }
        }
        if top.isEmpty { return nil }
        guard let key = resolver.identity(of: String(top)) else { return nil }
        var found: Int?
        for i in 1..<r.steps.count where r.steps[i].key == key {
            found = i
            break
        }
        guard let i = found else { return nil }
        let names = r.names
        let below: String = names[i...].joined(separator: "/")
        let candidate: String = below.isEmpty ? String(top) : String(top) + "/" + below
        return pat.contains(candidate, workspace: ws) == true ? i : nil
    }
}
