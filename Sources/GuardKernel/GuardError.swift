import CBPF

#if canImport(Glibc)
    import Glibc
#endif

/// Errors of the kernel side: each message is one paragraph that says what to do.
public enum GuardError: Error, CustomStringConvertible, Sendable {
    /// Not root and without CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN).
    case missingPrivileges(euid: UInt32)
    /// The PID given to -p does not exist (or vanished before it was attached).
    case noSuchProcess(Int32)
    /// `--session` named the guard's own session: it would guard itself and whoever started it.
    case ownSession(Int32)
    /// The kernel has no BTF, which CO-RE and BTF tracepoints need.
    case btfUnavailable(path: String)
    /// The kernel refused BPF altogether (syscall missing, locked down …).
    case bpfUnavailable(errno: Int32)
    /// A program failed to load; carries libbpf's last lines (the verifier log).
    case loadFailed(errno: Int32, log: String)
    /// A program loaded but could not be attached.
    case attachFailed(errno: Int32, log: String)
    /// The command given to `run` could not be started.
    case spawnFailed(command: String, errno: Int32)
    /// An output file (-o, --violations, --report, --junit) cannot be opened for writing.
    case cannotWrite(path: String, errno: Int32)
    /// Something else the kernel side needed failed.
    case system(what: String, errno: Int32)

    public var description: String {
        switch self {
        case .missingPrivileges(let euid):
            return """
                claude-guard needs root (or CAP_BPF, CAP_PERFMON and CAP_KILL) to load its eBPF programs, \
                and it is running as uid \(euid) without them. Run it with sudo: `sudo claude-guard ...`. \
                (`claude-guard check`, `test` and `lint` need no privileges.)
                """
        case .ownSession(let pid):
            return "PID \(pid) is in claude-guard's own session: --session would guard the guard itself and the shell that started it. Start the agent in a session of its own (setsid), or leave out --session."
        case .noSuchProcess(let pid):
            return """
                No process with PID \(pid) exists (it may have exited already). Give the PID of a running \
                agent, e.g. `sudo claude-guard -p $(pgrep -n -f claude)`, or start the agent under guard \
                with `sudo claude-guard run -- CMD`.
                """
        case .btfUnavailable(let path):
            return """
                No kernel BTF at \(path), which claude-guard's CO-RE programs need to find kernel fields. \
                Use a kernel built with CONFIG_DEBUG_INFO_BTF=y (every current distribution kernel is), or \
                point CLAUDE_GUARD_BTF at a BTF file for this kernel.
                """
        case .bpfUnavailable(let errno):
            return """
                The kernel refused to create BPF objects (\(errnoText(errno))). Check that BPF is enabled \
                (CONFIG_BPF_SYSCALL), that kernel lockdown or a seccomp profile (containers) does not forbid \
                it, and that claude-guard runs as root.
                """
        case .loadFailed(let errno, let log):
            return """
                claude-guard's eBPF programs failed to load (\(errnoText(errno))): the kernel's verifier or \
                CO-RE relocation against this kernel's BTF refused them. It needs Linux 5.17+ with BTF \
                tracepoints; if this kernel has them, report it with these last lines of the log:
                \(tail(log))
                """
        case .attachFailed(let errno, let log):
            return """
                claude-guard could not attach its tracepoints (\(errnoText(errno))). It needs the \
                sched_process_exec/fork/exit BTF tracepoints; kprobes, fentry and BPF LSM are not used.
                \(tail(log))
                """
        case .spawnFailed(let command, let errno):
            return "claude-guard could not start `\(command)`: \(errnoText(errno)). Check the command name and PATH."
        case .cannotWrite(let path, let errno):
            return """
                claude-guard cannot write \(path): \(errnoText(errno)). Give a file in an existing directory \
                that root may write; the guard did not start.
                """
        case .system(let what, let errno):
            return "claude-guard failed to \(what): \(errnoText(errno))."
        }
    }

    /// The exit code of claude-guard for this error (never 3, which means violations).
    public var exitCode: Int32 {
        switch self {
        case .missingPrivileges: return 77
        case .noSuchProcess, .ownSession, .cannotWrite: return 2
        case .spawnFailed(_, let errno): return errno == ENOENT ? 127 : 126
        default: return 1
        }
    }
}

/// How a C function says that it failed.
enum CFailure {
    /// A negative errno: the C shim (cbpf.h, cssl.h) and libbpf.
    case negativeErrno
    /// -1, with the errno in `errno`: libc (EINTR is retried).
    case minusOne
}

/// Calls a C function and turns its failure into `GuardError.system` (swift-nio's `syscall` wrapper), so no
/// caller reads errno by hand or leaves a failure unseen.
///
/// - Parameters:
///   - what: what the call does, for the message ("track pid 42": "claude-guard failed to track pid 42: …").
///   - failure: how the function reports failure.
/// - Returns: the function's result (a count, a PID, a descriptor) when it did not fail.
/// - Throws: `GuardError.system` with the errno.
@discardableResult
func syscall<T: FixedWidthInteger & SignedInteger>(
    _ what: @autoclosure () -> String, _ failure: CFailure = .negativeErrno, _ body: () -> T
) throws(GuardError) -> T {
    while true {
        let r = body()
        switch failure {
        case .negativeErrno where r < 0:
            throw .system(what: what(), errno: Int32(truncatingIfNeeded: -r))
        case .minusOne where r == -1:
            let e = errno
            if e == EINTR { continue }
            throw .system(what: what(), errno: e)
        default:
            return r
        }
    }
}

func errnoText(_ errno: Int32) -> String {
    let e = abs(errno)
    return String(cString: cg_strerror(e)) + " (errno \(e))"
}

private func tail(_ log: String, lines: Int = 12) -> String {
    let all = log.split(separator: "\n", omittingEmptySubsequences: true)
    return all.suffix(lines).map { "    " + $0 }.joined(separator: "\n")
}
