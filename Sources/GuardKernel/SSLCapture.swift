import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// HTTPS plaintext of the guarded tree: uprobes on OpenSSL's `SSL_read`, `SSL_write`, `SSL_read_ex` and
/// `SSL_write_ex` in every file that holds that code for a process of the tree.
///
/// The probes are attached per file, never per process: the system's libssl at start, then each libssl (or
/// other library) a tracked process maps and each executable that links OpenSSL statically and exports its
/// functions (Node.js builds), found as the tree execs (`execed`) and as the kernel reports an executable file a
/// tracked process mapped for the first time (the mmap tracepoint: a library loaded at start or by dlopen, read
/// by `poll`). A file is looked at once (by device and inode).
/// The kernel side filters by the main object's `tracked` map, so a process outside the tree only pays the
/// probe's trap when it calls these functions.
///
/// Not thread-safe: one thread polls and handles records, as `BPFGuard`.
public final class SSLCapture {
    private let ssl: OpaquePointer
    /// Called for each call's plaintext, on the polling thread.
    public var onChunk: (SSLChunk) -> Void = { _ in }
    private let wallOffsetNs: Int64
    /// Files attached, by identity, with the path they were found at.
    public private(set) var attached: [FileKey: String] = [:]
    /// Files looked at that hold no OpenSSL functions (or could not be attached).
    private var rejected: Set<FileKey> = []
    /// Mappings already looked at, as maps shows them (device, inode, path): the cheap test before a stat.
    private var seenMappings: Set<[UInt8]> = []
    /// What went wrong attaching, once per file (for the session's warnings).
    public private(set) var notes: [String] = []
    private var lostReported: UInt64 = 0

    /// A file's identity: stat's device and inode.
    public struct FileKey: Hashable, Sendable {
        public var dev: UInt64
        public var ino: UInt64
    }

    /// The OpenSSL functions probed, in enum cg_ssl_func order.
    static let functions = ["SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"]
    /// Where a distribution keeps its shared libraries (libssl is attached from here at start).
    static let libraryDirectories = [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
    ]

    /// Loads the capture programs on `guardBPF`'s tracked set and attaches them to the system's libssl.
    ///
    /// - Throws: `GuardError.loadFailed` when the programs do not load, `.system` when the ring buffer cannot be
    ///   made.
    public init(sharing guardBPF: BPFGuard, btfPath: String? = nil) throws {
        var handle: OpaquePointer?
        let err = btfPath.withOptionalCString { cg_ssl_load(cg_bpf_tracked_fd(guardBPF.bpf), $0, &handle) }
        guard err == 0, let handle else {
            throw GuardError.loadFailed(errno: -err, log: String(cString: cg_bpf_last_log()))
        }
        ssl = handle
        wallOffsetNs = BPFGuard.clockNs(CLOCK_REALTIME) - BPFGuard.clockNs(CLOCK_MONOTONIC)
        // From here on deinit frees the object (it runs when init throws).
        let rb = cg_ssl_open_ringbuf(
            ssl,
            { ctx, data, size in
                guard let ctx, let data else { return 0 }
                Unmanaged<SSLCapture>.fromOpaque(ctx).takeUnretainedValue().handle(UnsafeRawPointer(data), size)
                return 0
            }, Unmanaged.passUnretained(self).toOpaque())
        if rb != 0 { throw GuardError.system(what: "create the HTTPS capture's ring buffer", errno: -rb) }
        for dir in Self.libraryDirectories {
            for name in ProcFS.entries(of: dir) where name.hasPrefix("libssl.so") {
                consider(dir + "/" + name, shown: realPath(dir + "/" + name))
            }
        }
        if !cg_ssl_sees_mappings(ssl) {
            notes.append("HTTPS capture: no syscall tracepoints: a libssl outside the system's is found at exec only")
        }
    }

    deinit { cg_ssl_destroy(ssl) }

    /// A process of the tree (seeded at start, or just exec'd): its executable and what it maps.
    public func discover(pid: Int32) {
        consider("/proc/\(pid)/exe", shown: realPath("/proc/\(pid)/exe"))
        scanMaps(pid)
    }

    /// An exec of the tree: the new executable, and the libraries mapped so far.
    public func execed(_ e: ExecEvent) {
        guard case .exec = e.kind else { return }
        discover(pid: e.pid)
    }

    /// Handles the records there are now, without waiting (before an exec is handled, so the tool use that
    /// caused it has been decoded). Returns how many.
    @discardableResult
    public func consume() -> Int32 { cg_ssl_consume(ssl) }

    /// Waits up to timeoutMs for records and handles them; returns how many.
    @discardableResult
    public func poll(timeoutMs: Int32) -> Int32 { cg_ssl_poll(ssl, timeoutMs) }

    /// Readable when records wait: to wait on both ring buffers in one epoll.
    public var epollFD: Int32 { cg_ssl_epoll_fd(ssl) }

    /// Waits up to timeoutMs until this ring or the descriptor `fd` (the main ring buffer's epoll fd) has
    /// records, then handles this ring's; the caller polls its own ring next (with no timeout). A library a
    /// process just mapped is attached at once, not at the main loop's next timeout.
    public func wait(alongside fd: Int32, timeoutMs: Int32) {
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: epollFD, events: Int16(POLLIN), revents: 0),
        ]
        _ = Glibc.poll(&fds, nfds_t(fds.count), timeoutMs)
        consume()
    }

    /// The kernel's counters: calls captured, of them truncated, records lost.
    public func stats() -> (calls: UInt64, truncated: UInt64, lost: UInt64) {
        var out = [UInt64](repeating: 0, count: Int(CG_SSL_STAT_MAX.rawValue))
        _ = cg_ssl_stats(ssl, &out)
        return (
            out[Int(CG_SSL_STAT_CALLS.rawValue)], out[Int(CG_SSL_STAT_TRUNCATED.rawValue)],
            out[Int(CG_SSL_STAT_LOST.rawValue)]
        )
    }

    /// Records the kernel could not submit since the last call.
    public func newlyLost() -> UInt64 {
        let lost = stats().lost
        defer { lostReported = lost }
        return lost &- lostReported
    }

    // MARK: discovery

    /// Executable file mappings of a process whose path is new: a libssl, or any library exporting OpenSSL.
    @discardableResult
    func scanMaps(_ pid: Int32) -> Bool {
        guard let maps = ProcFS.readBytes("/proc/\(pid)/maps") else { return false }
        for line in maps.split(separator: UInt8(ascii: "\n")) {
            // address perms offset dev inode path
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].count == 4, fields[1][fields[1].startIndex + 2] == UInt8(ascii: "x")
            else { continue }
            let name = fields[5].drop { $0 == UInt8(ascii: " ") }
            guard name.first == UInt8(ascii: "/") else { continue }
            let path = String(decoding: name, as: UTF8.self)
            guard !path.hasSuffix(" (deleted)") else { continue }
            if seenMappings.count > 65536 { seenMappings.removeAll() }
            guard seenMappings.insert(Array(fields[3]) + Array(fields[4]) + Array(name)).inserted else { continue }
            // Through the process's root, so a file in another mount namespace is the one it maps.
            consider("/proc/\(pid)/root" + path, shown: path)
        }
        return true
    }

    /// Attaches to the file at path if it defines SSL_read and SSL_write and is not attached yet.
    func consider(_ path: String, shown: String? = nil) {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return }
        let key = FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        guard attached[key] == nil, !rejected.contains(key) else { return }
        let offsets = Self.offsets(of: Self.functions, in: path)
        guard offsets[Int(CG_SSL_FN_READ.rawValue)] != 0, offsets[Int(CG_SSL_FN_WRITE.rawValue)] != 0 else {
            rejected.insert(key)
            return
        }
        let n = path.withCString { p in offsets.withUnsafeBufferPointer { cg_ssl_attach_file(ssl, p, $0.baseAddress) } }
        if n < 0 {
            rejected.insert(key)
            notes.append("HTTPS capture: cannot attach to \(shown ?? path): \(errnoText(-n))")
            return
        }
        attached[key] = shown ?? path
    }

    /// File offsets of the named functions in an ELF file (0: absent).
    static func offsets(of names: [String], in path: String) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: names.count)
        // A file that cannot be read has none of them (all 0): nothing of it is probed.
        _ = withCStrings(names) { cnames in
            var ptrs = cnames.map { $0.map { UnsafePointer($0) } }
            return path.withCString { p in cg_elf_func_offsets(p, &ptrs, Int32(names.count), &out) }
        }
        return out
    }

    // MARK: records

    private func handle(_ data: UnsafeRawPointer, _ size: Int) {
        typealias E = cg_ssl_event
        let head = cg_ssl_offset_data()
        guard size >= head else { return }
        func field<T>(_ path: KeyPath<E, T>, _: T.Type) -> T? {
            MemoryLayout<E>.offset(of: path).map { data.load(fromByteOffset: $0, as: T.self) }
        }
        guard let hdr = field(\.hdr, cg_header.self) else { return }
        let comm = UnsafeRawBufferPointer(start: data + cg_ssl_offset_comm(), count: Int(CG_COMM_LEN))
        let source = TrafficSource(
            pid: Int32(bitPattern: hdr.pid), tid: Int32(bitPattern: field(\.tid, UInt32.self) ?? 0),
            root: Int32(bitPattern: field(\.root, UInt32.self) ?? 0), comm: Array(comm.prefix { $0 != 0 }),
            connection: field(\.ssl, UInt64.self) ?? 0)
        if hdr.type == UInt32(CG_EVENT_SSL_MAPPED.rawValue) {
            // Gone before its maps were read: let the next process that maps the file report it.
            if !scanMaps(source.pid) { _ = cg_ssl_forget_file(ssl, field(\.len, UInt64.self) ?? 0, source.connection) }
            return
        }
        guard hdr.type == UInt32(CG_EVENT_SSL_DATA.rawValue) else { return }
        let flags = field(\.flags, UInt32.self) ?? 0
        let dataLen = min(Int(field(\.data_len, UInt32.self) ?? 0), size - head, Int(CG_SSL_DATA_MAX))
        let ns = Int64(bitPattern: hdr.ktime_ns) &+ wallOffsetNs
        onChunk(
            SSLChunk(
                source: source, outbound: flags & UInt32(CG_SSL_WRITE.rawValue) != 0,
                length: Int(field(\.len, UInt64.self) ?? 0),
                data: Array(UnsafeRawBufferPointer(start: data + head, count: max(0, dataLen))),
                monotonicNs: hdr.ktime_ns,
                time: WallTime(seconds: ns / 1_000_000_000, micros: Int32((ns % 1_000_000_000) / 1000))))
    }
}

extension Optional where Wrapped == String {
    /// Calls body with a C string, or NULL for nil.
    func withOptionalCString<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
        switch self {
        case .some(let s): return s.withCString { body($0) }
        case .none: return body(nil)
        }
    }
}
