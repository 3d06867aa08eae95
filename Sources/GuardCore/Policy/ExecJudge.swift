/// Judges one exec after another with one long-lived evaluator, as the live guard does: its parse buffers and
/// its cache of command names (where each resolves over `PATH`, which rules could match it, whether it wraps)
/// are kept between execs, so a decision allocates little and tries only the rules a name can meet.
///
/// A verdict is the one `Policy.evaluate(_:identify:paths:)` gives (`EngineReuseTests` holds a long-lived evaluator
/// to a fresh one's verdicts). Not thread-safe: one judge per thread.
public final class ExecJudge {
    public let policy: Policy
    private var evaluator: Evaluator
    /// Command names remembered before the cache starts afresh (an agent runs a few hundred distinct ones).
    static let maxNames = 4096

    public init(policy: Policy) {
        self.policy = policy
        evaluator = Evaluator(policy: policy, cache: ResolveCache())
    }

    /// Judges one exec: rules matching it directly, and its unwrapped payload.
    ///
    /// `identify` gives the program names a file is by identity or content; it judges what a runner loads
    /// without an exec (`ld.so /tmp/renamed-rm -rf V`) as the program it is.
    /// `paths` resolves path operands as the exec's process sees them (its root, cwd and mounts).
    public func evaluate(
        _ cmd: ExecContext, identify: ((String) -> [String])? = nil, paths: (any PathResolving)? = nil
    ) -> Verdict {
        if evaluator.cache.count > Self.maxNames { evaluator = Evaluator(policy: policy, cache: ResolveCache()) }
        evaluator.identify = identify
        evaluator.resolver = paths
        defer {
            evaluator.identify = nil
            evaluator.resolver = nil
        }
        return policy.verdict(evaluator.command(cmd, depth: 0))
    }
}
