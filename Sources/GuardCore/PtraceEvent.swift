/// A guarded process reaching into another process's memory: ptrace(PTRACE_ATTACH|PTRACE_SEIZE) or
/// process_vm_writev, seen at the call's entry, or an open of /proc/PID/mem for writing, seen as it returns
/// (issue 12, class 3).
///
/// A tracer can rewrite what the guard judged (argv at an exec stop, code, data), so a tracked tracer makes its
/// tracee tracked, and reaching a process outside the guarded trees, or a tracked one whose exec was judged
/// already, is judged by `settings.ptrace`. A signal to one of the guard's own processes rides the same record
/// (`op` is `.signal`): judged by `settings.tamper` instead (issue 12, class 7).
public struct PtraceEvent: Sendable, Equatable {
    /// What the call was.
    public enum Op: String, Sendable {
        case attach = "PTRACE_ATTACH"
        case seize = "PTRACE_SEIZE"
        case vmWrite = "process_vm_writev"
        case procMem = "/proc/PID/mem"
        /// kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo or pidfd_send_signal of a guard process.
        case signal = "kill"
    }

    public var op: Op
    /// The calling (tracer) process.
    public var pid: Int32
    public var ppid: Int32
    public var uid: UInt32
    /// The tracer's guarded root.
    public var root: Int32
    public var comm: [UInt8]
    /// The pid as the tracer gave it (a thread id in its own PID namespace).
    public var target: Int32
    /// The target's process as the guard sees it; 0 when there is no such process.
    public var targetProcess: Int32
    public var targetComm: [UInt8]
    /// The target was in a guarded tree already.
    public var targetTracked: Bool
    /// The tracked target has exec'd since its fork: its argv was judged already, and a write now rewrites it.
    public var targetExeced: Bool
    /// The kernel killed the target too (a process_vm_writev into a tracked process: the write lands).
    public var targetKilled: Bool
    /// The target was outside, and is tracked now under the tracer's root.
    public var adopted: Bool
    /// The target was stopped (job control) before the call.
    public var targetWasStopped: Bool
    /// The kernel killed the tracer at the call's entry (it dies before the call returns to it).
    public var killedInKernel: Bool
    /// The kernel stopped the tracer at the call's entry (a verdict is awaited).
    public var held: Bool
    /// `.signal`: the signal's number.
    public var signal: Int32
    /// `.signal`: sent to a process group the guard is in (kill(0), kill(-pgid)) or to every process (kill(-1)).
    public var group: Bool
    /// `.signal`: a stop signal the kernel undid (SIGCONT to the guard's process as the call returned).
    public var guardContinued: Bool
    public var monotonicNs: UInt64
    public var time: WallTime

    public init(
        op: Op, pid: Int32, ppid: Int32, uid: UInt32 = 0, root: Int32 = 0, comm: [UInt8] = [], target: Int32,
        targetProcess: Int32, targetComm: [UInt8] = [], targetTracked: Bool = false, targetExeced: Bool = false,
        targetKilled: Bool = false, adopted: Bool = false,
        targetWasStopped: Bool = false, killedInKernel: Bool = false, held: Bool = false, signal: Int32 = 0,
        group: Bool = false, guardContinued: Bool = false, monotonicNs: UInt64 = 0,
        time: WallTime = WallTime(seconds: 0, micros: 0)
    ) {
        self.op = op
        self.pid = pid
        self.ppid = ppid
        self.uid = uid
        self.root = root
        self.comm = comm
        self.target = target
        self.targetProcess = targetProcess
        self.targetComm = targetComm
        self.targetTracked = targetTracked
        self.targetExeced = targetExeced
        self.targetKilled = targetKilled
        self.adopted = adopted
        self.targetWasStopped = targetWasStopped
        self.killedInKernel = killedInKernel
        self.held = held
        self.signal = signal
        self.group = group
        self.guardContinued = guardContinued
        self.monotonicNs = monotonicNs
        self.time = time
    }

    /// Whether this reached a process outside every guarded tree.
    public var reachesOutside: Bool { op != .signal && !targetTracked && targetProcess != 0 }

    /// Whether `settings.ptrace` judges it: a process outside every guarded tree, or a tracked one whose exec was
    /// judged already (a tracer following a child from before its exec is no violation by itself).
    public var judged: Bool { reachesOutside || (targetTracked && targetExeced) }

    /// The call as a command-line-like text, for `matched` and the text output.
    public var description: String {
        let name = String(decoding: targetComm, as: UTF8.self)
        if op == .signal {
            return "kill -\(Self.signalName(signal)) \(group ? "process group of " : "")pid \(targetProcess)"
                + (name.isEmpty ? "" : " (\(name))")
        }
        return "\(op.rawValue) pid \(targetProcess != 0 ? targetProcess : target)" + (name.isEmpty ? "" : " (\(name))")
    }

    /// A signal's name without SIG (STOP, TERM), or its number.
    public static func signalName(_ sig: Int32) -> String {
        let names = [
            1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE", 9: "KILL", 10: "USR1",
            11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 16: "STKFLT", 17: "CHLD", 18: "CONT",
            19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU", 25: "XFSZ", 26: "VTALRM",
            27: "PROF", 28: "WINCH", 29: "IO", 30: "PWR", 31: "SYS",
        ]
        return names[Int(sig)] ?? String(sig)
    }
}
