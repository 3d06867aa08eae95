import Foundation

/// A policy's file rules compiled for the kernel side: the trees they name (one bit each), the rules over
/// those bits, the programs of process exceptions, and the Landlock layers `run` applies.
///
/// The kernel matches a path by the identities (device, inode) of its ancestors, so a tree is a root that
/// exists when the guard starts, optionally with a filter on the last name (`~/.ssh/id_*`, `/**/.env`).
/// Patterns that do not reduce to that shape are expanded against the file system once, at start.
public struct FileKernelPlan: Sendable {
    /// A filter on the last component of a path.
    public enum NameFilter: Sendable, Equatable, Hashable {
        case exact(String)
        case affix(prefix: String, suffix: String)
    }

    /// A root and what below it is covered.
    public struct Tree: Sendable, Equatable, Hashable {
        /// An absolute, normalised path.
        public var root: String
        /// The root itself is not covered (`DIR/*`).
        public var strict: Bool
        public var name: NameFilter?
    }

    /// One file rule over tree bits (struct cg_frule).
    public struct Rule: Sendable {
        /// Index in `Policy.fileRules`.
        public var index: Int
        public var access: UInt32
        public var action: FileAction
        public var under: UInt64?
        public var outside: UInt64?
        /// Bit of `processSets`, when the rule names processes.
        public var process: Int?
    }

    /// One layer of Landlock restriction: rights refused everywhere except beneath the granted paths.
    public struct LandlockLayer: Sendable {
        public var rule: String
        public var handled: UInt64
        public var grants: [(path: String, access: UInt64)]
    }

    public private(set) var trees: [Tree] = []
    public private(set) var rules: [Rule] = []
    /// Program names (or paths) of each process exception bit.
    public private(set) var processSets: [[String]] = []
    /// Patterns the kernel cannot match by identity (rule id, pattern): left to user space, said at start.
    public private(set) var unsupported: [(rule: String, pattern: String)] = []
    public private(set) var landlock: [LandlockLayer] = []
    /// Accesses (`FileAccess.bit`) every deny/kill rule of which is a Landlock layer: the kernel refuses them.
    public private(set) var landlocked: UInt32 = 0
    /// Rules over the kernel's limit (CG_FRULES_MAX) or trees over CG_FTREES_MAX: reported at start.
    public private(set) var overflow: [String] = []

    static let maxRules = 32
    static let maxTrees = 64

    /// Compiles the file rules of `policy` for `workspace`.
    ///
    /// - Parameter landlockABI: the running kernel's Landlock ABI (0: none); layers need ABI ≥ 1.
    public init(policy: Policy, workspace: String?, landlockABI: Int = 0) {
        var bitOf: [Tree: Int] = [:]
        for (i, r) in policy.fileRules.enumerated() {
            if rules.count == Self.maxRules {
                overflow.append(r.id)
                continue
            }
            func bits(_ patterns: [String]) -> UInt64 {
                var b: UInt64 = 0
                for p in patterns {
                    guard let ts = Self.trees(for: p) else {
                        unsupported.append((r.id, p))
                        continue
                    }
                    for t in ts {
                        if let bit = bitOf[t] {
                            b |= 1 << UInt64(bit)
                        } else if trees.count < Self.maxTrees {
                            bitOf[t] = trees.count
                            b |= 1 << UInt64(trees.count)
                            trees.append(t)
                        } else {
                            overflow.append("\(r.id): \(p)")
                        }
                    }
                }
                return b
            }
            let under = r.under(workspace: workspace)
            let outside = r.outside(workspace: workspace)
            var process: Int? = nil
            if let names = r.processCommands {
                if let k = processSets.firstIndex(of: names) {
                    process = k
                } else if processSets.count < 64 {
                    process = processSets.count
                    processSets.append(names)
                }
            }
            rules.append(
                Rule(
                    index: i, access: r.access.reduce(0) { $0 | $1.bit }, action: r.action,
                    under: under.isEmpty ? nil : bits(under), outside: outside.isEmpty ? nil : bits(outside),
                    process: process))
        }
        if landlockABI >= 1 { compileLandlock(policy: policy, workspace: workspace, abi: landlockABI) }
    }

    // MARK: patterns to trees

    static func isMeta(_ c: Character) -> Bool { c == "*" || c == "?" || c == "[" }

    /// The trees a pattern covers, or nil when it has no tree shape the kernel can match.
    static func trees(for pattern: String, depth: Int = 0) -> [Tree]? {
        let comps = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        func dir(_ n: Int) -> String { "/" + comps.prefix(n).joined(separator: "/") }
        guard let k = comps.firstIndex(where: { $0.contains(where: isMeta) }) else {
            return [Tree(root: Paths.normalize(pattern), strict: false, name: nil)]
        }
        let last = comps.count - 1
        if k == last || (k == last - 1 && comps[k] == "**") {
            let leaf = comps[last]
            if leaf == "*" || leaf == "**" { return [Tree(root: dir(k), strict: true, name: nil)] }
            guard let f = nameFilter(leaf) else { return nil }
            return [Tree(root: dir(k), strict: true, name: f)]
        }
        // A wildcard directory in the middle (`/home/*/.ssh/*`): expand it against the file system once.
        guard depth < 4, comps[k] != "**" else { return nil }
        let base = dir(k)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        var out: [Tree] = []
        for e in entries.sorted() where fnmatch(comps[k], e, 0) == 0 {
            var isDir: ObjCBool = false
            let path = (base == "/" ? "" : base) + "/" + e
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { continue }
            let rest = path + "/" + comps[(k + 1)...].joined(separator: "/")
            guard let more = trees(for: rest, depth: depth + 1) else { return nil }
            out += more
            if out.count > 256 { return nil }
        }
        return out
    }

    /// A last component as the kernel filters it: a literal name, or a literal prefix and suffix around one `*`.
    static func nameFilter(_ leaf: String) -> NameFilter? {
        if leaf.contains("?") || leaf.contains("[") { return nil }
        let parts = leaf.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where leaf.utf8.count <= 32: return .exact(leaf)
        case 2 where parts[0].utf8.count <= 32 && parts[1].utf8.count <= 32:
            return .affix(prefix: parts[0], suffix: parts[1])
        default: return nil
        }
    }

    // MARK: Landlock

    /// Landlock access rights (include/uapi/linux/landlock.h).
    public enum LL {
        public static let writeFile: UInt64 = 1 << 1
        public static let removeDir: UInt64 = 1 << 4
        public static let removeFile: UInt64 = 1 << 5
        public static let make: UInt64 = (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
        public static let refer: UInt64 = 1 << 13
        public static let truncate: UInt64 = 1 << 14
    }

    /// The Landlock rights that refuse an access (none for read and chmod: the kernel side handles those).
    static func landlockRights(_ a: FileAccess, abi: Int) -> UInt64 {
        switch a {
        case .delete: return LL.removeFile | LL.removeDir
        case .rename: return LL.removeFile | LL.removeDir | (abi >= 2 ? LL.refer : 0)
        case .truncate: return abi >= 3 ? LL.truncate : 0
        case .write: return LL.writeFile
        case .create: return LL.make
        case .read, .chmod: return 0
        }
    }

    /// One layer per deny/kill rule whose meaning Landlock can state exactly enough: no process condition,
    /// `under` or `outside` (not both), trees without name filters; earlier allow/alert rules for the same
    /// accesses are granted in the layer. Everything else stays with the kernel programs' detection.
    private mutating func compileLandlock(policy: Policy, workspace: String?, abi: Int) {
        let lockable: [FileAccess] = [.delete, .rename, .truncate, .write, .create]
        var covered: Set<FileAccess> = []
        var uncovered: Set<FileAccess> = []
        for (n, r) in policy.fileRules.enumerated() {
            let accesses = r.access.intersection(lockable)
            if accesses.isEmpty { continue }
            if r.action == .alert { uncovered.formUnion(accesses) }
            guard r.action == .deny || r.action == .kill else { continue }
            var rights = accesses.reduce(UInt64(0)) { $0 | Self.landlockRights($1, abi: abi) }
            if rights == 0 || landlock.count == 16 {
                uncovered.formUnion(accesses)
                continue
            }
            if abi >= 2 && rights & (LL.removeFile | LL.writeFile | LL.truncate) != 0 { rights |= LL.refer }
            if let layer = layer(for: r, rights: rights, earlier: Array(policy.fileRules[..<n]), workspace: workspace)
            {
                landlock.append(layer)
                covered.formUnion(accesses.filter { Self.landlockRights($0, abi: abi) != 0 })
            } else {
                uncovered.formUnion(accesses)
            }
        }
        landlocked = covered.subtracting(uncovered).reduce(0) { $0 | $1.bit }
    }

    private func layer(for r: FileRule, rights: UInt64, earlier: [FileRule], workspace: String?) -> LandlockLayer? {
        let under = r.under(workspace: workspace), outside = r.outside(workspace: workspace)
        guard r.processCommands == nil, under.isEmpty != outside.isEmpty else { return nil }
        func plainTrees(_ ps: [String]) -> [Tree]? {
            var out: [Tree] = []
            for p in ps {
                guard let ts = Self.trees(for: p), ts.allSatisfy({ $0.name == nil }) else { return nil }
                out += ts
            }
            return out
        }
        var grants: [(String, UInt64)] = []
        // Earlier rules that let the same accesses through are grants of this layer.
        for e in earlier where e.action == .allow || e.action == .alert {
            guard !e.access.isDisjoint(with: r.access) else { continue }
            guard e.processCommands == nil, e.outside(workspace: workspace).isEmpty,
                let ts = plainTrees(e.under(workspace: workspace))
            else { return nil }
            grants += ts.map { ($0.root, rights) }
        }
        if !outside.isEmpty {
            guard let ts = plainTrees(outside) else { return nil }
            grants += ts.map { ($0.root, rights) }
        } else {
            // A tree in /proc or /sys is not carved: their entries come and go with processes (a /proc/PID
            // born after start would get no rights); writes there are killed at the open, before a byte moves.
            guard let ts = plainTrees(under),
                !ts.contains(where: { $0.root.hasPrefix("/proc/") || $0.root.hasPrefix("/sys/") })
            else { return nil }
            grants += Self.carve(ts.map(\.root)).map { ($0, rights) }
        }
        return LandlockLayer(rule: r.id, handled: rights, grants: grants)
    }

    /// Every path that lies beside the protected roots on their way down from `/`: granting rights beneath
    /// these leaves the roots (and the ancestors' own entries) without them.
    static func carve(_ roots: [String]) -> [String] {
        let protected = Set(roots.map { Paths.normalize($0) })
        var ancestors: Set<String> = []
        for r in protected {
            var p = r
            while p != "/" {
                p = (p as NSString).deletingLastPathComponent
                ancestors.insert(p)
            }
        }
        var out: [String] = []
        for d in ancestors.sorted() {
            for e in ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).sorted() {
                let path = (d == "/" ? "" : d) + "/" + e
                if protected.contains(path) || ancestors.contains(path) { continue }
                out.append(path)
            }
        }
        return out
    }
}

extension FileAccess {
    /// The access as a bit of enum cg_access (bpf/claude_guard.h).
    public var bit: UInt32 {
        switch self {
        case .read: return 1 << 0
        case .write: return 1 << 1
        case .create: return 1 << 2
        case .delete: return 1 << 3
        case .rename: return 1 << 4
        case .truncate: return 1 << 5
        case .chmod: return 1 << 6
        }
    }

    /// The accesses of a cg_access bit set.
    public static func from(bits: UInt32) -> [FileAccess] { allCases.filter { bits & $0.bit != 0 } }
}
