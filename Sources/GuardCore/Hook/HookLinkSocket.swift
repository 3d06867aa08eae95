import Glibc

/// One Bash call the hook let through, as a running guard is told about it: the guard expects it as a tool use
/// (`toolUse`), and its `ExecLinker` puts the id on the exec that runs `command` and on its subtree.
public struct ToolUseRecord: Sendable, Equatable {
    public var toolUseID: String
    public var command: String
    public var cwd: String?
    public var sessionID: String?
    /// When the hook sent it: Unix time in seconds (wall clock).
    public var time: Double
    /// The sender, from the socket's peer credentials (set by the receiver; 0 until then).
    public var peerPID: Int32 = 0
    public var peerUID: UInt32 = 0

    public init(
        toolUseID: String, command: String, cwd: String? = nil, sessionID: String? = nil, time: Double,
        peerPID: Int32 = 0, peerUID: UInt32 = 0
    ) {
        self.toolUseID = toolUseID
        self.command = command
        self.cwd = cwd
        self.sessionID = sessionID
        self.time = time
        self.peerPID = peerPID
        self.peerUID = peerUID
    }

    /// The call as the tool use the guard's linker expects (`Bash` with its `command`).
    public var toolUse: ToolUse {
        var input: [JSONValue.Member] = [.init("command", .string(command))]
        if let cwd { input.append(.init("cwd", .string(cwd))) }
        return ToolUse(id: toolUseID, name: "Bash", input: .object(input))
    }

    /// The longest command sent; longer ones are cut (on a character boundary), which still links: the guard
    /// looks for the text in the exec's arguments.
    public static let maxCommandBytes = 16 << 10
    /// The largest message a listener reads.
    public static let maxMessageBytes = 64 << 10

    /// The wire form: one compact JSON object per message, `{"v":1,"id":...,"command":...,"cwd":...,
    /// "session":...,"time":...}`.
    public var encoded: [UInt8] {
        var cmd = command
        if cmd.utf8.count > ToolUseRecord.maxCommandBytes {
            var cut = ""
            for ch in cmd {
                if cut.utf8.count + ch.utf8.count > ToolUseRecord.maxCommandBytes { break }
                cut.append(ch)
            }
            cmd = cut
        }
        var members: [JSONValue.Member] = [
            .init("v", .number("1")), .init("id", .string(toolUseID)), .init("command", .string(cmd)),
        ]
        if let cwd { members.append(.init("cwd", .string(cwd))) }
        if let sessionID { members.append(.init("session", .string(sessionID))) }
        members.append(.init("time", .number(String(time))))
        return Array(JSONValue.object(members).compact.utf8)
    }

    /// Reads one message; nil when it is not a version-1 record with an id and a command.
    public static func decode(_ bytes: [UInt8]) -> ToolUseRecord? {
        guard bytes.count <= maxMessageBytes, let doc = JSONValue.parse(bytes), doc["v"] == .number("1"),
            let id = doc["id"]?.string, !id.isEmpty, let command = doc["command"]?.string
        else { return nil }
        var time = 0.0
        if case .number(let t)? = doc["time"] { time = Double(t) ?? 0 }
        return ToolUseRecord(
            toolUseID: id, command: command, cwd: doc["cwd"]?.string, sessionID: doc["session"]?.string, time: time)
    }
}

/// Who is on the other end of a Unix socket (`SO_PEERCRED`, taken by the kernel at `connect`).
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Why the hook link's socket could not be set up.
public enum HookLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A socket call failed.
    case system(what: String, errno: Int32)
    /// The socket path does not fit in `sockaddr_un`.
    case pathTooLong(String)
    /// Something that is not a socket is in the way.
    case occupied(String)

    public var description: String {
        switch self {
        case .system(let what, let e):
            return "cannot \(what): \(String(cString: strerror(e))) (run the guard as root)"
        case .pathTooLong(let p): return "the socket path \(p) is longer than 107 bytes; choose a shorter directory"
        case .occupied(let p): return "\(p) exists and is not a socket; remove it"
        }
    }
}

/// The guard's end of the hook link: a `SOCK_SEQPACKET` Unix socket that hooks connect to, send one record and
/// close. `poll()` never blocks: it takes the connections waiting, checks each sender's credentials with
/// `accept`, and returns the records read.
///
/// A record sent before the hook exits is in the socket before Claude Code starts the command, so a guard that
/// polls before judging each exec links it (the connection and its data wait in the kernel until accepted).
public final class HookLinkListener {
    public let path: String
    private let fd: Int32
    private let admits: (PeerCredentials) -> Bool
    /// Connections accepted whose message has not arrived yet, with when they were accepted (monotonic ns).
    private var waiting: [(fd: Int32, since: UInt64)] = []
    /// Connections refused by `accept`, and messages that were not records.
    public private(set) var refused = 0
    public private(set) var malformed = 0

    /// Binds `path` (replacing a stale socket there) with `mode`, and listens.
    ///
    /// - Throws: `HookLinkError` when the socket cannot be made.
    public init(path: String, mode: mode_t = 0o666, accept: @escaping (PeerCredentials) -> Bool) throws(HookLinkError) {
        self.path = path
        admits = accept
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else { throw .occupied(path) }
            unlink(path)
        }
        let s = socket(
            AF_UNIX,
            Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw .system(what: "create the hook socket", errno: errno) }
        guard var addr = HookLinkListener.address(path) else {
            close(s)
            throw .pathTooLong(path)
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, chmod(path, mode) == 0, listen(s, 64) == 0 else {
            let e = errno
            close(s)
            unlink(path)
            throw .system(what: "listen on \(path)", errno: e)
        }
        fd = s
    }

    deinit {
        for w in waiting { close(w.fd) }
        close(fd)
        unlink(path)
    }

    /// The records that arrived since the last call (none when nothing waits); never blocks.
    public func poll() -> [ToolUseRecord] {
        let now = HookLinkListener.monotonicNs()
        while true {
            let c = Glibc.accept(fd, nil, nil)
            if c < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            guard let cred = HookLinkListener.peer(c), admits(cred) else {
                refused += 1
                close(c)
                continue
            }
            waiting.append((c, now))
        }
        var out: [ToolUseRecord] = []
        var buf = [UInt8](repeating: 0, count: ToolUseRecord.maxMessageBytes + 1)
        waiting.removeAll { w in
            let n = buf.withUnsafeMutableBytes { recv(w.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) && now &- w.since < 2_000_000_000 { return false }
            if n > 0 {
                if var r = ToolUseRecord.decode(Array(buf[0..<n])), let cred = HookLinkListener.peer(w.fd) {
                    r.peerPID = cred.pid
                    r.peerUID = cred.uid
                    out.append(r)
                } else {
                    malformed += 1
                }
            }
            close(w.fd)
            return true
        }
        // A flood of silent connections cannot grow this without bound.
        while waiting.count > 64 { close(waiting.removeFirst().fd) }
        return out
    }

    /// The kernel's `struct ucred` (`<sys/socket.h>` shows it only with `_GNU_SOURCE`, which the Glibc module
    /// does not set): pid, uid, gid, 12 bytes on every Linux architecture.
    private struct UCred {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    static func peer(_ fd: Int32) -> PeerCredentials? {
        var cred = UCred()
        var len = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, len == 12 else { return nil }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }

    /// `sockaddr_un` for a path, or nil when it does not fit.
    static func address(_ path: String) -> sockaddr_un? {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else { return nil }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return addr
    }

    static func monotonicNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// The hook's end of the link: tells every guard listening in a directory about one record, without waiting for
/// any of them.
public enum HookLinkClient {
    /// The name of a guard's socket in the link directory: `hook-<guard pid>.sock`.
    public static func isSocketName(_ name: String) -> Bool {
        name.hasPrefix("hook-") && name.hasSuffix(".sock")
    }

    /// Sends `record` to each `hook-*.sock` in `directory`; returns how many guards took it.
    ///
    /// Only a directory and sockets owned by `owner` (root, for /run/claude-guard) that no one else may write
    /// are trusted, so no other user can stand in for a guard and read the commands. Nothing here blocks: a
    /// missing directory, a stale socket, a full backlog or a guard that does not read are skipped, and the
    /// whole call gives up after `timeoutMs`.
    public static func send(
        _ record: ToolUseRecord, directory: String, owner: uid_t = 0, timeoutMs: Int = 20
    )
        -> Int
    {
        guard trusted(directory, owner: owner, directory: true), let dir = opendir(directory) else { return 0 }
        var names: [String] = []
        while let e = readdir(dir) {
            // In place: a dirent is only as long as its name, so a copy of the whole d_name array can read past
            // the end of readdir's buffer.
            let name = withUnsafeMutablePointer(to: &e.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if isSocketName(name) { names.append(name) }
        }
        closedir(dir)
        let message = record.encoded
        let deadline = HookLinkListener.monotonicNs() + UInt64(max(0, timeoutMs)) * 1_000_000
        var delivered = 0
        for name in names.sorted() {
            let path = directory + "/" + name
            guard HookLinkListener.monotonicNs() < deadline, trusted(path, owner: owner, directory: false),
                var addr = HookLinkListener.address(path)
            else { continue }
            let s = socket(
                AF_UNIX,
                Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                    | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard s >= 0 else { continue }
            defer { close(s) }
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard connected == 0 else { continue }
            if sendAll(s, message, deadline: deadline) { delivered += 1 }
        }
        return delivered
    }

    private static func sendAll(_ s: Int32, _ message: [UInt8], deadline: UInt64) -> Bool {
        while true {
            let n = message.withUnsafeBytes { Glibc.send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n == message.count { return true }
            guard n < 0, errno == EAGAIN || errno == EINTR else { return false }
            let now = HookLinkListener.monotonicNs()
            guard now < deadline else { return false }
            var p = pollfd(fd: s, events: Int16(POLLOUT), revents: 0)
            _ = Glibc.poll(&p, 1, Int32(max(1, (deadline - now) / 1_000_000)))
        }
    }

    /// Whether `path` is owned by `owner` and not writable by anyone else (a directory), or owned by `owner` (a
    /// socket: its mode lets every user connect).
    static func trusted(_ path: String, owner: uid_t, directory: Bool) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_uid == owner else { return false }
        if directory { return st.st_mode & S_IFMT == S_IFDIR && st.st_mode & 0o022 == 0 }
        return st.st_mode & S_IFMT == S_IFSOCK
    }
}
