#if canImport(Glibc)
    import Glibc
#endif

/// Keeps a hold invisible to the rest of the tree (issue 12, class 8).
///
/// A held process is stopped with SIGSTOP, and its parent hears of it (SIGCHLD, `waitpid(WUNTRACED)`): some
/// parents stop themselves in turn — util-linux `script` does, so `script -qc CMD /dev/null` stayed stopped
/// forever after its child was held and continued. The parent and grandparent of each held process are
/// watched for two seconds after the hold; one found stopped then, that the guard neither holds nor stopped by
/// a verdict, is continued.
final class HoldShadow {
    private var watched: [(pid: Int32, untilNs: UInt64)] = []

    /// A process was held: watch its parent and grandparent. One may have stopped already by the time the
    /// record is read (its SIGCHLD came at once), so a stopped one is watched too.
    func held(_ pid: Int32, nowNs: UInt64) {
        var p = ProcFS.parent(of: pid)
        for _ in 0..<2 {
            guard let q = p, q > 1 else { break }
            watched.append((q, nowNs + 2_000_000_000))
            p = ProcFS.parent(of: q)
        }
    }

    /// Continues the watched processes found stopped, except those `keep` names (held or stopped by the guard).
    func tick(nowNs: UInt64, keep: (Int32) -> Bool) {
        guard !watched.isEmpty else { return }
        watched.removeAll { $0.untilNs < nowNs }
        for w in watched where ProcFS.state(of: w.pid) == "T" && !keep(w.pid) {
            kill(w.pid, SIGCONT)
        }
    }

    var isIdle: Bool { watched.isEmpty }
}
