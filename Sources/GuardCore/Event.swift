/// The events claude-guard reports: one exec (or failed exec), one exit, lost records, a summary.
///
/// Byte fields stay bytes: argv, paths and names come from the kernel and may hold
/// anything (newlines, invalid UTF-8); they are only turned into text when printed.
public struct ExecEvent: Sendable, Equatable {
    /// Whether the exec happened or failed (`-x`).
    public enum Kind: Sendable, Equatable {
        case exec
        case failed(errno: Int32)
    }

    public var kind: Kind
    public var pid: Int32
    public var ppid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The guarded root (tgid) this process descends from.
    public var root: Int32
    public var comm: [UInt8]
    /// The executed file as given to execve.
    public var filename: [UInt8]
    /// The real path of the executed file (symlinks seen through); empty for failed execs.
    public var path: [UInt8]
    /// The working directory, when known.
    public var cwd: [UInt8]?
    public var argv: [[UInt8]]
    /// argv was longer than the kernel copies.
    public var truncated: Bool
    public var cgroupID: UInt64
    /// The executed file's identity (device, inode, ctime), not its name.
    public var file: FileIdentity
    public var monotonicNs: UInt64
    public var time: WallTime
    /// The kernel sent SIGSTOP before reporting (a verdict is awaited).
    public var held: Bool
    /// The kernel killed it at exec.
    public var killedInKernel: Bool
    /// The task was being traced (ptrace) at its exec: a tracer can rewrite the new image at the exec stop.
    public var traced = false
    /// The `LD_PRELOAD=...`/`LD_AUDIT=...` strings of the new image's environment, as the kernel read them.
    public var loaderEnv: [[UInt8]] = []
    /// The kernel could not read all of them (too long, or too many environment strings to scan).
    public var loaderEnvCut = false

    public init(
        kind: Kind = .exec, pid: Int32, ppid: Int32, uid: UInt32 = 0, gid: UInt32 = 0, root: Int32 = 0,
        comm: [UInt8] = [], filename: [UInt8], path: [UInt8] = [], cwd: [UInt8]? = nil, argv: [[UInt8]],
        truncated: Bool = false, cgroupID: UInt64 = 0, file: FileIdentity = FileIdentity(),
        monotonicNs: UInt64 = 0, time: WallTime = WallTime(seconds: 0, micros: 0), held: Bool = false,
        killedInKernel: Bool = false
    ) {
        self.kind = kind
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.gid = gid
        self.root = root
        self.comm = comm
        self.filename = filename
        self.path = path
        self.cwd = cwd
        self.argv = argv
        self.truncated = truncated
        self.cgroupID = cgroupID
        self.file = file
        self.monotonicNs = monotonicNs
        self.time = time
        self.held = held
        self.killedInKernel = killedInKernel
    }

    /// argv as text (invalid UTF-8 replaced), for matching and display.
    public var argvStrings: [String] { argv.map { String(decoding: $0, as: UTF8.self) } }

    /// The whole argv of an exec whose copy the kernel cut (`truncated`), from the process's /proc/PID/cmdline
    /// bytes read while it is held: nil when they are missing, or do not begin with what the kernel copied (a
    /// cut word is a prefix of its whole word), so are not this exec's argv.
    public static func wholeArgv(kernel: [[UInt8]], cmdline: [UInt8]?) -> [[UInt8]]? {
        guard var raw = cmdline, !raw.isEmpty else { return nil }
        var at = 0
        for (k, word) in kernel.enumerated() {
            guard at + word.count <= raw.count, raw[at..<(at + word.count)].elementsEqual(word) else { return nil }
            at += word.count
            if k < kernel.count - 1 {
                guard at < raw.count, raw[at] == 0 else { return nil }
                at += 1
            }
        }
        if raw.last == 0 { raw.removeLast() }
        return raw.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
    }
}

/// What the policy asked for one exec and what the guard did about it.
public struct Violation: Sendable, Equatable {
    public var rule: String
    /// allow | alert | stop | kill, as the policy asked.
    public var action: String
    /// What was done: killed, stopped, alerted, would-kill, would-stop, would-alert …
    public var enforced: String
    public var severity: String
    public var policy: String
    /// The (unwrapped) inner command that hit the rule.
    public var matched: String
    public var description: String?
    /// The process (a shell or wrapper) whose violation this exec repeats: the same command, judged first in its
    /// payload. Such a violation is shown and logged, linked to that one, and not counted again.
    public var carriedBy: Int32?
    /// What finally became of a process a `stop` left stopped: `resumed`, `killed`, or `on_timeout: resumed` /
    /// `on_timeout: killed` when nobody answered in time; nil while it is stopped (and for other actions).
    public var outcome: String?

    public init(
        rule: String, action: String, enforced: String, severity: String, policy: String, matched: String,
        description: String? = nil
    ) {
        self.rule = rule
        self.action = action
        self.enforced = enforced
        self.severity = severity
        self.policy = policy
        self.matched = matched
        self.description = description
    }
}

/// The exit of a whole guarded process.
public struct ExitEvent: Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var root: Int32
    public var comm: [UInt8]
    /// Wait status as the kernel keeps it: exit code in bits 8-15, signal in 0-6.
    public var rawStatus: Int32
    public var durationNs: UInt64
    public var time: WallTime

    public init(
        pid: Int32, ppid: Int32, root: Int32, comm: [UInt8], rawStatus: Int32, durationNs: UInt64, time: WallTime
    ) {
        self.pid = pid
        self.ppid = ppid
        self.root = root
        self.comm = comm
        self.rawStatus = rawStatus
        self.durationNs = durationNs
        self.time = time
    }

    /// The exit code, or nil when a signal ended the process.
    public var exitCode: Int32? { rawStatus & 0x7f == 0 ? (rawStatus >> 8) & 0xff : nil }
    /// The signal that ended the process, if any.
    public var signal: Int32? { rawStatus & 0x7f == 0 ? nil : rawStatus & 0x7f }
    /// The shell convention: the code, or 128 + signal.
    public var shellStatus: Int32 { exitCode ?? (128 + (signal ?? 0)) }
}

/// The closing record of a session.
public struct Summary: Sendable, Equatable {
    public var execs: UInt64 = 0
    public var execFailures: UInt64 = 0
    public var exits: UInt64 = 0
    public var lost: UInt64 = 0
    public var violations: UInt64 = 0
    public var killed: UInt64 = 0
    public var stopped: UInt64 = 0
    public var alerted: UInt64 = 0
    /// File calls the kernel refused (Landlock) for a deny rule.
    public var denied: UInt64 = 0
    /// File calls of the tree the kernel reported (violations, refusals, and all of them with --files).
    public var fileEvents: UInt64 = 0
    /// Lines typed into interactive bash shells of the tree (readline).
    public var bashLines: UInt64 = 0
    /// Held processes that got on_timeout because no verdict came in time (missed decisions).
    public var holdTimeouts: UInt64 = 0
    /// Execs the kernel held for a user-space verdict (the rest were passed or killed in the kernel).
    public var held: UInt64 = 0
    /// Forks of the tree the kernel had no room to track: the child was killed at its first system call
    /// (counted in audit mode too, where it ran unguarded).
    public var untracked: UInt64 = 0
    /// Holds the kernel had no room for: decided in the kernel as on_timeout says.
    public var unheld: UInt64 = 0
    /// Median and 99th percentile of exec-to-verdict time of held execs, µs.
    public var holdDecisionMedianUs: Double?
    public var holdDecisionP99Us: Double?
    /// Peak resident memory of the guard, KiB.
    public var peakRSSKiB: UInt64 = 0
    /// Violations per rule id.
    public var perRule: [String: UInt64] = [:]
    /// Descendants still alive when the guarded command ended, and what was done to them.
    public var leftovers: [Int32] = []
    public var exitStatus: Int32?
    public var durationNs: UInt64 = 0
    /// With --otlp: records the collector accepted, and those it did not get (queue full, refused, left at exit),
    /// before the summary itself.
    public var otlpSent: UInt64?
    public var otlpDropped: UInt64?

    public init() {}
}

/// A wall-clock instant with microseconds.
public struct WallTime: Sendable, Equatable {
    public var seconds: Int64
    public var micros: Int32

    public init(seconds: Int64, micros: Int32) {
        self.seconds = seconds
        self.micros = micros
    }
}

/// Identity of an executable file's contents: device, inode and ctime (which no write leaves unchanged).
public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var ctimeSec: Int64
    public var ctimeNsec: UInt32

    public init(device: UInt64 = 0, inode: UInt64 = 0, ctimeSec: Int64 = 0, ctimeNsec: UInt32 = 0) {
        self.device = device
        self.inode = inode
        self.ctimeSec = ctimeSec
        self.ctimeNsec = ctimeNsec
    }
}
