/// The file rules `claude-guard daemon` loads into the kernel: one set for every tree it guards.
///
/// The kernel judges a file call at its exit and signals before user space hears of it, against one set of rule
/// maps frozen once written (issue 12: an agent running as root must not rewrite them). So every guard of a
/// config must have the same file rules (or none): a config whose policies differ there is refused, rather than
/// tagging each rule with its guards in the kernel, because the maps' limits (32 rules, 64 trees) would then be
/// shared by every policy and the tree's guard would have to be checked in the hottest program for a case (one
/// policy per kind of agent, each with its own file rules) `run` serves already.
///
/// A rule that names `${workspace}` is not loaded: the kernel matches a tree by the identity of its root, fixed
/// when the maps are written, and each guarded tree has its own workspace. Leaving such a rule out changes the
/// decision only for the accesses it would have decided: a left-out `deny` protects less (said at start), a
/// left-out `allow` lets the later rules decide (stricter).
public struct DaemonFileRules: Sendable {
    /// The shared policy with the rules the kernel loads (nil: none to load).
    public let policy: Policy?
    /// The rules left out because they name `${workspace}` (their ids).
    public let skipped: [String]
    /// What a reload must find again: the shared rules as written.
    public let signature: [String]

    /// The file rules of the guards' policies (`policies[i]` is `guards[i]`'s).
    ///
    /// - Throws: `PolicyError` at the `policy:` line of the first guard whose policy's file rules differ from
    ///   the first guard's.
    public init(guards: [DaemonConfig.Guard], policies: [Policy]) throws(PolicyError) {
        let signatures = policies.map { $0.fileRules.map(Self.signature) }
        for (i, s) in signatures.enumerated() where s != signatures[0] {
            throw PolicyError.invalidValue(
                guards[i].policyAt, key: "policy",
                message:
                    "policy \(policies[i].name) has other file rules than policy \(policies[0].name) of guard \(guards[0].name): the kernel holds one set of file rules for every tree the daemon guards, so every guard needs the same file rules (or none); guard agents that need other file rules with claude-guard run"
            )
        }
        signature = signatures.first ?? []
        guard let first = policies.first, !first.fileRules.isEmpty else {
            policy = nil
            skipped = []
            return
        }
        var p = first
        p.fileRules = first.fileRules.filter { !$0.namesWorkspace }
        skipped = first.fileRules.filter(\.namesWorkspace).map(\.id)
        policy = p.fileRules.isEmpty ? nil : p
    }

    /// A rule as written: two rules with the same signature judge every call alike.
    static func signature(_ r: FileRule) -> String {
        let fields: [String] = [
            r.id, r.action.rawValue, r.severity?.rawValue ?? "", r.description ?? "",
            r.access.map(\.rawValue).sorted().joined(separator: ","),
            r.underPatterns.map(\.written).joined(separator: "\u{1}"),
            r.outsidePatterns.map(\.written).joined(separator: "\u{1}"),
            r.processCommands?.joined(separator: "\u{1}") ?? "(any)",
        ]
        return fields.joined(separator: "\u{2}")
    }
}

extension FileRule {
    /// Some `under` or `outside` pattern is relative to `${workspace}`.
    public var namesWorkspace: Bool {
        (underPatterns + outsidePatterns).contains { $0.workspaceRelative }
    }
}
