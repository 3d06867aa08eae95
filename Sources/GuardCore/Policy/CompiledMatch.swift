/// The compiled form of one `match:` object (its matching is in Policy.swift, Hosts.swift and the evaluator).
///
/// The one place a match's fields skip Swift's safety checks, and why that is safe: the fields are written only
/// while a policy loads (`PolicyLoader`, one thread, before the `Policy` value is returned) and never after, so
/// every later read — from any thread, as a loaded `Policy` is shared — sees an immutable object. That makes the
/// class `Sendable` in fact (`@unchecked`), and no access can overlap a write (`@exclusivity(unchecked)` drops the
/// per-read dynamic check on the evaluator's hot path). Add a field here only if it keeps that rule.
final class CompiledMatch: @unchecked Sendable {
    @exclusivity(unchecked) var commandNames: [String] = []
    @exclusivity(unchecked) var commandPaths: [String] = []
    @exclusivity(unchecked) var commandGlobs: [Glob] = []
    @exclusivity(unchecked) var args: [Glob] = []
    @exclusivity(unchecked) var flags: [FlagAlternatives] = []
    @exclusivity(unchecked) var cmdline: [Glob] = []
    @exclusivity(unchecked) var regexes: [Regex] = []
    @exclusivity(unchecked) var under: [PathPattern] = []
    @exclusivity(unchecked) var outside: [PathPattern] = []
    @exclusivity(unchecked) var pipeline: [CompiledMatch] = []
    @exclusivity(unchecked) var parent: [CompiledMatch] = []
    @exclusivity(unchecked) var userNames: [String] = []
    @exclusivity(unchecked) var uids: [UInt32] = []
    @exclusivity(unchecked) var hasUser = false
    @exclusivity(unchecked) var hasPaths = false
    /// `hosts:` and `hosts_outside:` globs, lower case (`Hosts.swift` matches them).
    @exclusivity(unchecked) var hosts: [Glob] = []
    @exclusivity(unchecked) var hostsOutside: [Glob] = []
    /// Set at load: only `cmdline`/`regex` and no `command` — tried on a script's whole text, so its commands
    /// need not try it again.
    @exclusivity(unchecked) var isTextOnly = false
    /// `paths` must hold for every path operand (allow rules) rather than for one (alert, stop, kill rules).
    @exclusivity(unchecked) var everyPath = false
    /// `flags` also hold when written as a `--` prefix of their long name (`rm --rec`), as getopt_long reads them:
    /// for alert, stop and kill rules. An allow rule needs its flags as written (a prefix the program reads as
    /// another option must not earn an allow).
    @exclusivity(unchecked) var abbreviatedFlags = false
    /// Some `args` pattern has a `/`: it is also tried on words' resolved paths (set at load).
    @exclusivity(unchecked) var argsNamePaths = false

    init() {}

    /// Sets what is known once the rule is loaded: `everyPath` (from its action) for this match,
    /// `abbreviatedFlags` (from its action) and `argsNamePaths` (from its args) also for its pipeline stages and
    /// parent match.
    func judged(by action: Action) {
        everyPath = action == .allow
        prepare(acts: action != .allow)
    }

    private func prepare(acts: Bool) {
        abbreviatedFlags = acts
        argsNamePaths = args.contains { $0.namesPaths }
        for m in pipeline { m.prepare(acts: acts) }
        for m in parent { m.prepare(acts: acts) }
    }
}
