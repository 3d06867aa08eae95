import Foundation

/// A file call of a guarded process, as the kernel reported it at the call's exit (SPEC §8 `--files`).
public struct FileEvent: Sendable, Equatable {
    /// The call (enum cg_file_op in bpf/claude_guard.h).
    public enum Op: UInt32, Sendable {
        case open = 1, unlink, rmdir, rename, truncate, link, symlink, chmod

        public var name: String {
            switch self {
            case .open: return "open"
            case .unlink: return "unlink"
            case .rmdir: return "rmdir"
            case .rename: return "rename"
            case .truncate: return "truncate"
            case .link: return "link"
            case .symlink: return "symlink"
            case .chmod: return "chmod"
            }
        }
    }

    public var op: Op
    public var pid: Int32
    public var ppid: Int32
    public var uid: UInt32
    public var root: Int32
    public var comm: [UInt8]
    /// The accesses the call makes.
    public var access: [FileAccess]
    /// A descriptor, 0, or a negative errno.
    public var ret: Int32
    public var openFlags: UInt32
    /// The opened file's real path, or (when `relative`) the directory `name` is relative to.
    public var path: [UInt8]
    /// The path argument as the process gave it (path calls).
    public var name: [UInt8]
    /// The second path argument (rename and link targets; a symlink's text).
    public var name2: [UInt8]?
    public var relative: Bool
    /// Index of the file rule the kernel applied (`Policy.fileRules`), and what it did.
    public var kernelRule: Int?
    public var held: Bool
    public var killedInKernel: Bool
    public var created: Bool
    public var monotonicNs: UInt64
    public var time: WallTime

    public init(
        op: Op, pid: Int32, ppid: Int32 = 0, uid: UInt32 = 0, root: Int32 = 0, comm: [UInt8] = [],
        access: [FileAccess], ret: Int32 = 0, openFlags: UInt32 = 0, path: [UInt8], name: [UInt8] = [],
        name2: [UInt8]? = nil, relative: Bool = false, kernelRule: Int? = nil, held: Bool = false,
        killedInKernel: Bool = false, created: Bool = false, monotonicNs: UInt64 = 0,
        time: WallTime = WallTime(seconds: 0, micros: 0)
    ) {
        self.op = op
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.root = root
        self.comm = comm
        self.access = access
        self.ret = ret
        self.openFlags = openFlags
        self.path = path
        self.name = name
        self.name2 = name2
        self.relative = relative
        self.kernelRule = kernelRule
        self.held = held
        self.killedInKernel = killedInKernel
        self.created = created
        self.monotonicNs = monotonicNs
        self.time = time
    }

    /// The path the call named, absolute and normalised (`..` and `.` folded as text; the kernel side
    /// already resolved the directory it is relative to).
    public var fullPath: String { Self.join(path, name, relative: relative) }

    /// The second path (rename/link target), absolute, for calls that have one; not for a symlink's text.
    public var fullPath2: String? {
        guard let n = name2, op == .rename || op == .link else { return nil }
        return Self.join(path, n, relative: true, absoluteName: n.first == UInt8(ascii: "/"))
    }

    static func join(_ dir: [UInt8], _ name: [UInt8], relative: Bool, absoluteName: Bool? = nil) -> String {
        let d = String(decoding: dir, as: UTF8.self)
        guard relative else { return d }
        let n = String(decoding: name, as: UTF8.self)
        if absoluteName ?? n.hasPrefix("/") { return Paths.normalize(n) }
        return Paths.normalize(d + "/" + n)
    }
}

extension EventJSON {
    /// The fields a `file` or `bash` record starts with, in the order both show them.
    static func head(
        _ type: String, time: WallTime, monotonicNs: UInt64, pid: Int32, ppid: Int32, uid: UInt32, comm: [UInt8],
        into w: inout JSONWriter
    ) {
        w.field("type", type)
        w.field("time", RFC3339.format(time))
        w.field("mono_ns", monotonicNs)
        w.field("pid", pid)
        w.field("ppid", ppid)
        w.field("uid", uid)
        w.field("comm", bytes: comm)
    }

    /// One file event as a JSON object (no newline), with the violation's fields when given.
    public static func file(_ e: FileEvent, violation: Violation? = nil, into w: inout JSONWriter) {
        w.beginObject()
        head("file", time: e.time, monotonicNs: e.monotonicNs, pid: e.pid, ppid: e.ppid, uid: e.uid, comm: e.comm, into: &w)
        w.field("op", e.op.name)
        w.beginArray("access")
        for a in e.access { w.value(a.rawValue) }
        w.endArray()
        w.field("path", e.fullPath)
        if let p2 = e.fullPath2 { w.field("path2", p2) }
        if e.relative { w.field("arg", bytes: e.name) }
        if e.op == .open { w.field("flags", e.openFlags) }
        w.field("ret", e.ret)
        if e.ret < 0 { w.field("error", Errno.name(-e.ret)) }
        w.field("root", e.root)
        if let v = violation { violationFields(v, into: &w) }
        w.endObject()
    }
}

extension TextFormatter {
    /// opensnoop's columns under the exec header: comm, pid, ppid, fd or -errno, then `FILE op path`.
    public func fileLine(_ e: FileEvent) -> String {
        var s = prefix(time: e.time, mono: e.monotonicNs, uid: e.uid)
        s += pad(Self.printable(e.comm), 17) + pad(String(e.pid), 8) + pad(String(e.ppid), 8)
        s += pad(String(e.ret), 4)
        s += "FILE \(e.op.name) " + Self.printable(Array(e.fullPath.utf8))
        if let p2 = e.fullPath2 { s += " -> " + Self.printable(Array(p2.utf8)) }
        if e.op == .open { s += " (" + e.access.map(\.rawValue).joined(separator: ",") + ")" }
        return s
    }

    /// The `!!` line of a file violation.
    public func fileViolationLine(_ e: FileEvent, _ v: Violation) -> String {
        "!! \(v.enforced.uppercased()) pid \(e.pid) rule \(v.rule) (\(v.severity)): \(Self.printable(Array(v.matched.utf8)))"
    }
}
