import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// A running guard's end of the link with `claude-guard hook`: a root-owned socket,
/// `/run/claude-guard/hook-<guard pid>.sock`, on which the hook announces each Bash call it let through (its
/// `tool_use_id` and command). The session feeds each announced call to its `ExecLinker`, which puts the id on
/// the exec that runs the command and on its subtree: linking without reading TLS (native Claude Code builds).
///
/// The socket may be connected to by anyone (the hook runs as the agent's user); a sender is heard only when its
/// credentials (`SO_PEERCRED`, taken by the kernel at connect) are root's or the agent's user's. The directory
/// must be root's and writable by no one else, so no other user can stand in for a guard.
public final class HookLink {
    private let listener: HookLinkListener

    /// Where the socket is.
    public var path: String { listener.path }
    /// Senders refused by their credentials, and messages that were not records.
    public var refused: Int { listener.refused }
    public var malformed: Int { listener.malformed }

    /// Listens for hooks run by `agentUID` (and root).
    ///
    /// - Throws: `GuardError.system` when the directory cannot be made, is not root's, or is writable by others,
    ///   or when the socket cannot be bound.
    public init(agentUID: uid_t, directory: String = HookTool.linkDirectory) throws(GuardError) {
        mkdir(directory, 0o755)
        var st = stat()
        guard lstat(directory, &st) == 0 else { throw .system(what: "create \(directory)", errno: errno) }
        guard st.st_mode & S_IFMT == S_IFDIR, st.st_uid == 0, st.st_mode & 0o022 == 0 else {
            throw .system(
                what: "trust \(directory) (it must be a directory owned by root that only root may write)",
                errno: EPERM)
        }
        do {
            listener = try HookLinkListener(path: "\(directory)/hook-\(getpid()).sock") { peer in
                peer.uid == 0 || peer.uid == agentUID
            }
        } catch {
            switch error {
            case .system(let what, let e): throw .system(what: what, errno: e)
            case .pathTooLong(let p): throw .system(what: "bind \(p)", errno: ENAMETOOLONG)
            case .occupied(let p):
                throw .system(what: "bind \(p) (something that is not a socket is there)", errno: EEXIST)
            }
        }
    }

    /// The link for a session guarding processes of `agentUID`, or nil with a warning on stderr when it cannot be
    /// set up (the guard works without it; execs then carry no tool_use ids from the hook).
    public static func start(agentUID: uid_t, quiet: Bool = false) -> HookLink? {
        do {
            return try HookLink(agentUID: agentUID)
        } catch {
            if !quiet {
                FileHandleStderr.write(
                    "claude-guard: warning: no link with the Claude Code hook: \(error.description)\n")
            }
            return nil
        }
    }

    /// The tool uses announced since the last call, for `ExecLinker.expect(_:agent:root:monotonicNs:)` (with
    /// `agent: nil`: the hook is not the agent). Never blocks: call it before judging each exec, so that a command
    /// announced before it started is expected when its exec is seen.
    public func poll() -> [ToolUse] {
        listener.poll().map(\.toolUse)
    }

    /// The uid a guarded process runs as (its real uid, from /proc), or nil when it is gone.
    public static func uid(of pid: Int32) -> uid_t? {
        guard let status = ProcFS.read("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
            return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { uid_t($0) }
        }
        return nil
    }
}
