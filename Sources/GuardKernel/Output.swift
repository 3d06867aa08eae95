import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// An append-only file or stdout, written with write(2) so nothing sits in a buffer on a crash.
public final class OutputFile {
    private let fd: Int32
    private let owned: Bool
    private let path: String
    private var pending: [UInt8] = []
    /// The first write that failed (a full disk, a closed pipe): what was pending then is gone.
    public private(set) var failure: GuardError?

    /// stdout.
    public init() {
        fd = STDOUT_FILENO
        owned = false
        path = "stdout"
    }

    /// Opens path for appending (created 0644 when missing).
    ///
    /// - Throws: `GuardError.cannotWrite` when it cannot be opened.
    public init(appendingTo path: String, truncate: Bool = false) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND)
        fd = open(path, flags, 0o644)
        owned = true
        self.path = path
        if fd < 0 { throw GuardError.cannotWrite(path: path, errno: errno) }
    }

    deinit {
        flush()
        if owned { close(fd) }
    }

    public func write(_ bytes: [UInt8]) { pending.append(contentsOf: bytes) }
    public func write(line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(UInt8(ascii: "\n"))
    }

    /// Writes what is pending; O_APPEND makes each write land whole at the end. A failure is kept in `failure`
    /// (the guard goes on guarding; whoever needs the file whole checks it).
    public func flush() {
        var off = 0
        while off < pending.count {
            let n = pending.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + off }, $0.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if failure == nil { failure = .system(what: "write \(path)", errno: n < 0 ? errno : EIO) }
                break
            }
            off += n
        }
        pending.removeAll(keepingCapacity: true)
    }
}
