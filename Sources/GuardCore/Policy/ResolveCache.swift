/// The resolve cache of one run (`check --file`, a guard's evaluator): the one place its storage skips Swift's
/// safety checks, and why that is safe. A `ResolveCache` and the `NameInfo`s in it belong to one evaluator, which
/// one thread uses at a time (never shared between threads), so no two accesses can overlap: the table's arrays
/// skip the dynamic exclusivity check (`@exclusivity(unchecked)`), and `NameInfo`'s one mutable field, the option
/// syntax remembered on first use, is written and read by that same thread (`@unchecked Sendable` lets the
/// immutable rest travel in an `ExecContext`).
/// A cache of command-name resolutions private to one caller, so that a long `check --file` run takes no lock.
final class ResolveCache {
    // An open-addressing table keyed by the name's bytes (FNV-1a; no per-lookup SipHash). Used by one
    // evaluator at a time (never shared between threads), so accesses skip the dynamic check.
    @exclusivity(unchecked) private var keys: [String] = []
    @exclusivity(unchecked) private var values: [NameInfo?] = []
    @exclusivity(unchecked) private(set) var count = 0
    /// Names with a byte above ASCII, keyed as `String`s (canonical equivalence), as before the table.
    @exclusivity(unchecked) private var other: [String: NameInfo] = [:]

    /// Empty until the first insert: an evaluator without a cache holds one that is never filled.
    init() {}

    /// FNV-1a of an ASCII name's bytes; nil for any other name.
    @inline(__always)
    private static func hash(_ name: String) -> Int? {
        Paths.withBytes(name) { b -> Int? in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            var any: UInt8 = 0
            for c in b {
                any |= c
                h = (h ^ UInt64(c)) &* 0x100_0000_01b3
            }
            if any >= 0x80 { return nil }
            return Int(truncatingIfNeeded: h ^ (h >> 29))
        }
    }

    /// What was remembered about `name`, if anything.
    func lookup(_ name: String) -> NameInfo? {
        guard let h = ResolveCache.hash(name) else { return other[name] }
        if keys.isEmpty { return nil }
        let mask = keys.count - 1
        var i = h & mask
        while let v = values[i] {
            if keys[i] == name { return v }
            i = (i + 1) & mask
        }
        return nil
    }

    /// Remembers `info` for `name` (not already present).
    func insert(_ name: String, _ info: NameInfo) {
        guard ResolveCache.hash(name) != nil else {
            other[name] = info
            return
        }
        if keys.isEmpty {
            keys = [String](repeating: "", count: 256)
            values = [NameInfo?](repeating: nil, count: 256)
        }
        if (count + 1) * 2 > keys.count {
            let oldKeys = keys, oldValues = values
            keys = [String](repeating: "", count: oldKeys.count * 2)
            values = [NameInfo?](repeating: nil, count: oldKeys.count * 2)
            count = 0
            for k in oldKeys.indices { if let v = oldValues[k] { put(oldKeys[k], v) } }
        }
        put(name, info)
    }

    private func put(_ name: String, _ info: NameInfo) {
        let mask = keys.count - 1
        var i = (ResolveCache.hash(name) ?? 0) & mask
        while values[i] != nil {
            if keys[i] == name {
                values[i] = info
                return
            }
            i = (i + 1) & mask
        }
        keys[i] = name
        values[i] = info
        count += 1
    }
}

/// What one caller learned about a command name: where it resolves, the rules whose command condition it meets
/// (plus rules without one), and whether it is a wrapper or shell.
final class NameInfo: @unchecked Sendable {
    let resolved: Paths.Resolved
    let candidates: [Int]
    let isWrapper: Bool
    /// The option syntax of the name's programs, once looked up.
    var syntax: OptionSyntax?

    /// Whether this info lives in a run's cache (its candidates and wrapper flag are then computed); an
    /// uncached resolution carries only `resolved`.
    let cached: Bool
    /// git: a wrapper only of the aliases its own `-c` options define, so most git commands wrap nothing.
    let isGit: Bool
    /// curl or wget: what it writes may be run later in the same text (`Evaluator.fileFeeds`).
    let isDownloader: Bool

    /// mv under a policy that judges moves (`movedDelete`): judged even when no rule names it.
    let movesJudged: Bool

    init(resolved: Paths.Resolved, candidates: [Int], isWrapper: Bool, cached: Bool, movesJudged: Bool = false) {
        self.movesJudged = movesJudged
        self.resolved = resolved
        self.candidates = candidates
        self.isWrapper = isWrapper
        self.cached = cached
        isGit = resolved.names.contains("git")
        isDownloader = resolved.names.contains { $0 == "curl" || $0 == "wget" }
    }
}
