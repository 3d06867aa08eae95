#if canImport(Glibc)
    import Glibc
#endif

/// `claude-guard resume|kill PID` for a process a `stop` verdict left stopped: the command (the client) leaves a
/// request file `VERB-PID` in the request directory of every running guard, and the guard that holds PID stopped
/// (the server, `Enforcer.serveRequests`) carries it out after its next poll and removes the file.
///
/// Each guard's directory is `/run/claude-guard/GUARD_PID` (mode 0700: only root leaves requests).
public enum HeldRequests {
    /// The directory holding every guard's request directory.
    static let base = "/run/claude-guard"

    /// The request directory of the guard whose PID is `guardPID`.
    static func directory(ofGuard guardPID: Int32) -> String { "\(base)/\(guardPID)" }

    /// What a request asks.
    public enum Verb: String, Sendable {
        case resume, kill
    }

    /// Why a request was not carried out (the command line prints it).
    public enum Failure: Error, CustomStringConvertible {
        /// No process has this PID.
        case noSuchProcess(Int32)
        /// No running guard took the request within the wait.
        case notHeld(Int32)

        public var description: String {
            switch self {
            case .noSuchProcess(let pid): return "no process with PID \(pid) exists."
            case .notHeld(let pid):
                return "no running claude-guard holds PID \(pid) stopped (is it the right PID, and are you root?)."
            }
        }

        /// 2 for a PID that does not exist, 1 when no guard holds it.
        public var exitCode: Int32 {
            switch self {
            case .noSuchProcess: return 2
            case .notHeld: return 1
            }
        }
    }

    /// Client: leaves the request with every running guard and waits up to 2 s for the one that holds PID to
    /// take it (the others leave theirs, removed here).
    ///
    /// - Throws: `Failure` when PID does not exist or no guard took the request.
    public static func send(_ verb: Verb, pid: Int32) throws(Failure) {
        guard ProcFS.exists(pid) else { throw .noSuchProcess(pid) }
        var sent: [String] = []
        for g in ProcFS.entries(of: base) {
            guard let guardPID = Int32(g), ProcFS.exists(guardPID) else { continue }
            let path = directory(ofGuard: guardPID) + "/\(verb.rawValue)-\(pid)"
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 {
                close(fd)
                sent.append(path)
            }
        }
        defer { for path in sent { unlink(path) } }
        for _ in 0..<100 {
            if sent.contains(where: { access($0, F_OK) != 0 }) { return }
            usleep(20_000)
        }
        throw .notHeld(pid)
    }
}

extension Enforcer {
    /// Server: makes this guard's request directory (its parent world-readable, itself root's only).
    static func makeRequestDirectory(_ dir: String) throws {
        for (d, mode): (String, mode_t) in [(HeldRequests.base, 0o755), (dir, 0o700)] {
            try syscall("create \(d) (where `claude-guard resume|kill` leave requests)", .minusOne) {
                mkdir(d, mode) == 0 || errno == EEXIST ? 0 : -1
            }
        }
    }

    /// Carries out `claude-guard resume|kill PID` requests; returns (pid, "resumed"|"killed").
    public func serveRequests() -> [(Int32, String)] {
        guard !stopped.isEmpty else { return [] }
        var done: [(Int32, String)] = []
        for name in ProcFS.entries(of: requestDir) {
            let parts = name.split(separator: "-")
            guard parts.count == 2, let pid = Int32(parts[1]), stopped[pid] != nil else { continue }
            if let verb = HeldRequests.Verb(rawValue: String(parts[0])) {
                decideStopped(pid, allow: verb == .resume)
                done.append((pid, verb == .resume ? "resumed" : "killed"))
            }
            unlink(requestDir + "/" + name)
        }
        return done
    }

    /// Removes the request directory and any request left in it.
    func removeRequestDir() {
        for name in ProcFS.entries(of: requestDir) { unlink(requestDir + "/" + name) }
        rmdir(requestDir)
    }
}
