import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Path helpers: lexical normalisation, `PATH` lookup with symlink resolution, user names.
enum Paths {
    /// The last path component (`/usr/bin/rm` → `rm`).
    static func basename(_ path: String) -> String {
        let u = path.utf8
        if u.isEmpty { return path }
        var end = u.endIndex
        while end > u.index(after: u.startIndex), u[u.index(before: end)] == 0x2F { end = u.index(before: end) }
        if end == u.index(after: u.startIndex) && u.first == 0x2F { return "/" }
        guard let slash = u[..<end].lastIndex(of: 0x2F) else {
            return end == u.endIndex ? path : String(Substring(u[..<end]))
        }
        return String(Substring(u[u.index(after: slash)..<end]))
    }

    /// Joins `path` to `cwd` when relative and normalises `.`, `..` and repeated slashes, without touching disk.
    static func absolute(_ path: String, cwd: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        // ASCII text: joined in a stack buffer, then the same `normalize` (no intermediate String).
        let fast: String? = withBytes(cwd) { c in
            withBytes(path) { p -> String? in
                guard isASCII(c), isASCII(p) else { return nil }
                let n = c.count + 1 + p.count
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { buf -> String? in
                    guard let base = buf.baseAddress else { return nil }
                    if let cb = c.baseAddress { base.update(from: cb, count: c.count) }
                    base[c.count] = 0x2F
                    if let pb = p.baseAddress { (base + c.count + 1).update(from: pb, count: p.count) }
                    let joined = UnsafeBufferPointer(start: base, count: n)
                    if isNormalBytes(joined) { return String(decoding: joined, as: UTF8.self) }
                    return normalizeASCII(joined)
                }
            }
        }
        if let fast { return fast }
        var joined = cwd
        joined.reserveCapacity(cwd.utf8.count + 1 + path.utf8.count)
        joined += "/"
        joined += path
        return normalize(joined)
    }

    /// Normalises `.`, `..` and repeated slashes lexically; `..` above `/` stays at `/`.
    static func normalize(_ path: String) -> String {
        if isNormal(path) { return path }
        // ASCII text (nearly every path) is normalised byte by byte; other text keeps String's semantics.
        if let fast = withBytes(path, normalizeASCII) { return fast }
        var parts: [Substring] = []
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(comp)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Runs `body` over the UTF-8 bytes of `s` without copying them.
    @inline(__always)
    static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = s
        return copy.withUTF8(body)
    }

    /// `normalize` for ASCII bytes (a relative path is taken from `/`); nil when a byte is not ASCII.
    private static func normalizeASCII(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: b.count + 1) { out -> String? in
            out[0] = 0x2F
            if let base = b.baseAddress, let o = out.baseAddress { (o + 1).update(from: base, count: b.count) }
            let whole = UnsafeMutableBufferPointer(rebasing: out[0..<(b.count + 1)])
            guard let n = normalizeInPlace(whole) else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: out[0..<n]), as: UTF8.self)
        }
    }

    /// `normalize` of an absolute ASCII path in place (the result is never longer); its new length, or nil when
    /// a byte is not ASCII or the path is not absolute.
    static func normalizeInPlace(_ b: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let count = b.count
        guard count > 0, b[0] == 0x2F else { return nil }
        var n = 1
        var i = 0
        while i < count {
            let c = b[i]
            if c >= 0x80 { return nil }
            if c == 0x2F {
                i += 1
                continue
            }
            var j = i + 1
            while j < count && b[j] != 0x2F {
                if b[j] >= 0x80 { return nil }
                j += 1
            }
            let len = j - i
            if len == 1 && c == 0x2E {
                // "." stays here
            } else if len == 2 && c == 0x2E && b[i + 1] == 0x2E {
                if n > 1 {
                    var k = n - 1
                    while b[k] != 0x2F { k -= 1 }
                    n = k == 0 ? 1 : k
                }
            } else {
                if n > 1 {
                    b[n] = 0x2F
                    n += 1
                }
                // n <= i: the component moves left (or stays).
                for k in i..<j { b[n + k - i] = b[k] }
                n += len
            }
            i = j
        }
        return n
    }

    /// Whether `path` is already absolute and normal: no `//`, `/./`, `/../`, trailing `/`, `/.` or `/..`.
    static func isNormal(_ path: String) -> Bool {
        withBytes(path, isNormalBytes)
    }

    /// `isNormal` over the bytes of a path.
    static func isNormalBytes(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        do {
            guard b.count > 0, b[0] == 0x2F else { return false }
            var state = 1  // bytes since the last '/': 0 none yet counted; tracks "/", "/.", "/.."
            var dots = 0
            let count = b.count
            var i = 1
            while i < count {
                let c = b[i]
                i += 1
                if c == 0x2F {
                    if state == 1 || (state == 2 && dots > 0 && dots <= 2) { return false }
                    state = 1
                    dots = 0
                } else if c == 0x2E && (state == 1 || (state == 2 && dots > 0)) {
                    state = 2
                    dots += 1
                } else {
                    state = 3
                }
            }
            if count == 1 { return true }
            return !(state == 1 || (state == 2 && dots <= 2))
        }
    }

    /// Whether every byte is below 0x80 (eight at a time).
    @inline(__always)
    static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let n = b.count
        var i = 0
        var acc: UInt64 = 0
        while i + 8 <= n {
            acc |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n {
            acc |= UInt64(base[i])
            i += 1
        }
        return acc & 0x8080_8080_8080_8080 == 0
    }

    /// Whether `path` is `prefix` or lies below it (both normalised).
    static func isUnder(_ path: String, _ prefix: String) -> Bool {
        if prefix == "/" { return true }
        // All-ASCII text compares byte by byte (the same answer as `hasPrefix`); other text keeps its semantics.
        let fast: Bool? = withBytes(path) { p in
            withBytes(prefix) { q in isUnderASCII(p, q, UnsafeBufferPointer(start: nil, count: 0)) }
        }
        if let fast { return fast }
        // Byte comparison, as the kernel compares names: canonically equivalent but different bytes
        // (a Kelvin sign and a K) are different paths, and byte lengths can then never disagree.
        let pu = path.utf8, qu = prefix.utf8
        guard pu.starts(with: qu) else { return false }
        return pu.count == qu.count || pu[pu.index(pu.startIndex, offsetBy: qu.count)] == 0x2F
    }

    /// Whether `path` is the normalised `base + rest` or lies below it, when all three are ASCII; nil otherwise.
    /// `base` is normal or empty, `rest` is normal and not `/`.
    static func isUnder(_ path: String, base: String, rest: String) -> Bool? {
        withBytes(path) { p in
            withBytes(base) { b in
                withBytes(rest) { r in isUnderASCII(p, b, r) }
            }
        }
    }

    /// `path` starts with `a` then `b` and ends there or at a `/`; nil when any byte is not ASCII.
    private static func isUnderASCII(
        _ p: UnsafeBufferPointer<UInt8>, _ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>
    ) -> Bool? {
        if !isASCII(p) || !isASCII(a) || !isASCII(b) { return nil }
        let n = a.count + b.count
        if p.count < n { return false }
        for k in 0..<a.count where p[k] != a[k] { return false }
        for k in 0..<b.count where p[a.count + k] != b[k] { return false }
        return p.count == n || p[n] == 0x2F
    }

    /// A word's tilde prefix expanded as the shell expands it: `~` and `~/…` to this user's home, `~NAME…` to
    /// NAME's home directory when the passwd database knows NAME; otherwise the word as it is (a relative path).
    static func tildeExpanded(_ w: String) -> String {
        guard w.hasPrefix("~") else { return w }
        let slash = w.firstIndex(of: "/") ?? w.endIndex
        let user = w[w.index(after: w.startIndex)..<slash]
        if user.isEmpty { return home + w[slash...] }
        guard let pw = getpwnam(String(user)), let dir = pw.pointee.pw_dir else { return w }
        return String(cString: dir) + w[slash...]
    }

    /// The home directory of the user running claude-guard (`$HOME`, else the passwd entry, else `/root`).
    static let home: String = {
        if let h = getenv("HOME"), h.pointee != 0 { return normalize(String(cString: h)) }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/root"
    }()

    /// Where a program name resolves: the path as located (over `PATH` when the name has no `/`) and its real
    /// path (symlinks resolved). An unresolvable name resolves to itself.
    struct Resolved: Sendable {
        var located: String
        var real: String
        /// Basenames of `real` and, when different, of `located`.
        var names: [String]

        init(located: String, real: String) {
            self.located = located
            self.real = real
            let a = Paths.basename(real)
            let b = Paths.basename(located)
            names = a == b ? [a] : [a, b]
        }
    }

    private static let cache = Mutex<[String: Resolved]>([:])
    private static let searchPath = SearchPath.current

    /// Resolves a command name as a shell would (`SearchPath`), then follows symlinks. A name found through an
    /// empty `PATH` entry (the working directory) depends on `cwd` and is not remembered.
    static func resolve(_ name: String, cwd: String?) -> Resolved {
        if name.isEmpty { return Resolved(located: name, real: name) }
        if name.utf8.contains(0x2F) {
            let abs = name.hasPrefix("/") ? name : absolute(name, cwd: cwd ?? currentDirectory)
            return Resolved(located: abs, real: realPath(abs) ?? normalize(abs))
        }
        if let hit = cache.withLock({ $0[name] }) { return hit }
        var result = Resolved(located: name, real: name)
        if let found = SearchPath.find(name, path: searchPath, cwd: cwd ?? currentDirectory) {
            let located = found.hasPrefix("/") ? found : absolute(found, cwd: cwd ?? currentDirectory)
            result = Resolved(located: located, real: realPath(located) ?? located)
            if !found.hasPrefix("/") || SearchPath.directories(searchPath).contains("") { return result }
        }
        cache.withLock { cache in
            if cache.count > 4096 { cache.removeAll() }
            cache[name] = result
        }
        return result
    }

    /// The real path of an existing file, or nil.
    static func realPath(_ path: String) -> String? { GuardCore.realPath(path) }

    /// The working directory of this process.
    static var currentDirectory: String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(cString: buf)
    }

    private static let users = Mutex<[UInt32: String]>([:])

    /// The user name of a uid, when the passwd database knows it.
    static func userName(_ uid: UInt32) -> String? {
        if let n = users.withLock({ $0[uid] }) { return n }
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return nil }
        let n = String(cString: name)
        users.withLock { $0[uid] = n }
        return n
    }

    /// The uid of a user name, when the passwd database knows it.
    static func uid(of name: String) -> UInt32? {
        if name == "root" { return 0 }
        guard let pw = getpwnam(name) else { return nil }
        return pw.pointee.pw_uid
    }
}

/// realpath(3) as a `String`: the real path of an existing file (symlinks, `.` and `..` resolved), or nil.
public func realPath(_ path: String) -> String? {
    guard let r = realpath(path, nil) else { return nil }
    defer { free(r) }
    return String(cString: r)
}
