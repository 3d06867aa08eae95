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
    ///
    /// The state is read first and `keep` asked after: a process seen stopped cannot exec, so it cannot be
    /// held by the kernel in between, while a hold that began before is in the held map by the time it is
    /// seen stopped (the kernel records it in the same program that sends the SIGSTOP). Asked the other way
    /// round, a watched parent held at its own next exec was continued — and killed by the resume guard.
    func tick(nowNs: UInt64, keep: (Int32) -> Bool) {
        guard !watched.isEmpty else { return }
        watched.removeAll { $0.untilNs < nowNs }
        let stopped = watched.map(\.pid).filter { ProcFS.state(of: $0) == "T" }
        for pid in stopped where !keep(pid) { kill(pid, SIGCONT) }
    }

    /// Before a held process is continued (it is no longer held, so a parent may continue it too): its parent
    /// must have heard of the stop, and run again if it stopped itself in turn, or it loses the child's exit.
    ///
    /// SIGCHLD does not queue. `script` reads it from a signalfd and stops itself when its child stops:
    /// continued while `script` is stopped, or before it has read the stop, the child's CLD_CONTINUED waits
    /// there until its exit's CLD_EXITED merges into it — `script` reads "continued", never reaps the child,
    /// and hangs in poll. So the parent is waited for, at most 20 ms: while a SIGCHLD is unread, and once it
    /// has read one, until it sleeps (continued if it stopped). A parent asleep in `waitpid` loses nothing
    /// (the exit is reported by the call, whatever the signals: bash and `system()` wait there with SIGCHLD
    /// blocked), so it is not waited for. The usual cost is two small /proc reads.
    static func settle(parentOf pid: Int32, keep: (Int32) -> Bool) {
        guard let parent = ProcFS.parent(of: pid), parent > 1 else { return }
        var ts = timespec()
        func now() -> Int {
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
        }
        var deadline: Int?
        var reacting = false
        while true {
            guard let (state, sigchld) = ProcFS.stateAndSigchld(of: parent) else { return }
            switch state {
            case "T":
                if keep(parent) { return }
                reacting = true
                kill(parent, SIGCONT)
            case "Z", "X", "t":
                return
            case "S", "D":
                if !sigchld || ProcFS.wchan(of: parent) == "do_wait" { return }
                reacting = true
            default:
                if !reacting && !sigchld { return }
                reacting = true
            }
            let t = now()
            if deadline == nil { deadline = t + 20_000_000 }
            if let d = deadline, t > d { return }
            usleep(200)
        }
    }

    var isIdle: Bool { watched.isEmpty }
}
