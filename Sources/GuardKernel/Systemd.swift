#if canImport(Glibc)
    import Glibc
#endif

/// systemd's readiness protocol (`sd_notify`): one datagram of `KEY=VALUE` lines to the AF_UNIX socket named by
/// $NOTIFY_SOCKET (a leading `@` is the abstract namespace). Written here in a few lines rather than linking
/// libsystemd: the protocol is this one sendto, and libsystemd-dev would be a build dependency of every host
/// that builds claude-guard for a call that is a no-op outside systemd.
public enum SystemdNotify {
    /// Sends `state` (e.g. "READY=1") when run under systemd with Type=notify; false when not sent.
    @discardableResult
    public static func send(_ state: String) -> Bool {
        guard let path = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), path.count > 1 else { return false }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &addr) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent == message.count
    }
}

/// The daemon's own log lines, on stderr: under systemd that is the journal, and with $JOURNAL_STREAM set each
/// line starts with its sd-daemon priority (`<3>` error, `<4>` warning, `<6>` info) so journalctl shows and
/// filters it by priority.
public enum DaemonLog {
    public enum Priority: Int {
        case error = 3
        case warning = 4
        case notice = 5
        case info = 6
    }

    static let journal = getenv("JOURNAL_STREAM") != nil

    public static func write(_ priority: Priority, _ message: String) {
        let prefix = journal ? "<\(priority.rawValue)>" : ""
        let label = priority == .error ? "error: " : priority == .warning ? "warning: " : ""
        // One prefix per line: the journal reads each line as its own entry.
        var text = ""
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "\(prefix)claude-guard: \(label)\(line)\n"
        }
        FileHandleStderr.write(text)
    }
}
