/// Which recorded violations fail a guarded run (`--fail-on`, `--fail-on-severity`): exit 3 when any does.
public struct FailCriteria: Sendable, Equatable {
    /// The policy actions that fail the run (`kill`, `stop`, `alert`, `deny`); nil: any.
    public var actions: Set<String>?
    /// The least severity that fails the run; nil: any.
    public var minSeverity: Severity?

    public init(actions: Set<String>? = nil, minSeverity: Severity? = nil) {
        self.actions = actions
        self.minSeverity = minSeverity
    }

    /// The actions `--fail-on` takes.
    public static let actionNames = ["alert", "stop", "kill", "deny"]

    /// Reads `--fail-on kill,stop`.
    ///
    /// - Throws: `FailCriteria.BadValue` naming what is not an action.
    public static func actions(_ list: String) throws(BadValue) -> Set<String> {
        var out: Set<String> = []
        for word in list.split(separator: ",", omittingEmptySubsequences: false) {
            let w = word.trimmingSpaces
            guard actionNames.contains(w) else { throw BadValue(word: w) }
            out.insert(w)
        }
        return out
    }

    /// A `--fail-on` word that is not an action.
    public struct BadValue: Error, Sendable, CustomStringConvertible {
        public var word: String
        public var description: String {
            "--fail-on takes actions separated by commas (\(FailCriteria.actionNames.joined(separator: ", "))), not '\(word)'; e.g. --fail-on kill,stop"
        }
    }

    /// Whether this violation fails the run.
    public func fails(_ v: Violation) -> Bool {
        if let actions, !actions.contains(v.action) { return false }
        if let minSeverity {
            let rank = Severity.allCases.firstIndex(of: Severity(rawValue: v.severity) ?? .medium) ?? 0
            if rank < (Severity.allCases.firstIndex(of: minSeverity) ?? 0) { return false }
        }
        return true
    }
}

/// One offending command, one violation: a shell or wrapper judged by its payload (`bash -c 'true; sudo -n
/// true'` alerted for `sudo -n true`) carried that command, so when the command's own exec is judged the same
/// (same rule, same command line) in that process or below it, it is the violation already recorded, linked to the
/// process that carried it instead of counted again.
public struct CarriedViolations: Sendable {
    private var parent: [Int32: Int32] = [:]
    private var recorded: [Int32: [(rule: String, matched: String)]] = [:]

    public init() {}

    /// Notes an exec and its violation, if any; returns the PID (itself or an ancestor) whose recorded violation it
    /// repeats, or nil when it is a new one (then it is recorded).
    public mutating func admit(pid: Int32, ppid: Int32, violation: Violation?) -> Int32? {
        parent[pid] = ppid
        guard let v = violation else { return nil }
        var p: Int32? = pid
        var hops = 0
        while let q = p, hops < 64 {
            if recorded[q]?.contains(where: { $0.rule == v.rule && $0.matched == v.matched }) == true { return q }
            p = parent[q]
            hops += 1
        }
        recorded[pid, default: []].append((v.rule, v.matched))
        return nil
    }

    /// A process exited: forget it unless it carried a violation its descendants may still repeat.
    public mutating func exited(_ pid: Int32) {
        if recorded[pid] == nil { parent[pid] = nil }
    }
}
