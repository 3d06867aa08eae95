import ArgumentParser
import Foundation
import GuardCore
import GuardKernel

#if canImport(Glibc)
    import Glibc
#endif

@main
struct ClaudeGuard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claude-guard",
        abstract: "Watch every program an AI agent's process tree executes; alert, hold or kill what a policy denies.",
        discussion: """
            EXAMPLES:
              sudo claude-guard -p 4242                         # guard a running agent and its descendants
              sudo claude-guard -p 4242 --policy strict.yaml    # ... with a policy of your own
              sudo claude-guard run --policy ci.yaml -- claude -p "fix the tests"   # CI gate
              sudo claude-guard -p 4242 --audit --violations v.jsonl   # audit only, log violations
              sudo claude-guard run -T -U -x -- bash -c 'make test'    # time, uid, failed execs
              sudo claude-guard run --format json -- npm test          # JSON Lines on stdout
              claude-guard check -- rm -rf /                    # what would the policy do? (no root)
              claude-guard test policies/strict.yaml            # run a policy's own tests
              claude-guard lint policies/strict.yaml            # validate a policy

              claude-guard policy show strict                   # the effective policy, defaults filled in
              sudo claude-guard daemon --config /etc/claude-guard/daemon.yaml   # every matching agent (systemd)

            Exit codes: 0 ok; 3 violations recorded (run, -p); run: the command's status otherwise
            (128+signal when killed); check: 1 when the policy would act; test, lint: 1 failures or
            warnings. Errors of claude-guard itself, never 3: 2 invalid policy, unknown PID or an output
            file that cannot be written; 64 bad usage; 77 missing privileges; 127/126 command not found
            or not executable; 1 BPF unavailable or load failure.
            """,
        version: BuildInfo.text,
        subcommands: [
            Watch.self, Run.self, Check.self, Test.self, Lint.self, PolicyCommand.self, Resume.self, KillHeld.self,
            Hook.self, Import.self, Init.self, VersionCommand.self, DaemonCommand.self,
        ],
        defaultSubcommand: Watch.self
    )
}

/// Options shared by `-p PID` and `run`: output, filters, policy.
struct GuardOptions: ParsableArguments {
    @Flag(name: [.customShort("T"), .customLong("time")], help: "Include a wall-clock time column.")
    var time = false
    @Flag(name: [.customShort("t"), .customLong("timestamp")], help: "Include a seconds-since-start column.")
    var seconds = false
    @Flag(name: [.customShort("U"), .customLong("print-uid")], help: "Include a UID column.")
    var uid = false
    @Flag(
        name: [.customShort("q"), .customLong("quote")],
        help: "Put quotes around every argument (not quiet: that is --quiet).")
    var quote = false
    @Flag(name: [.customShort("x"), .customLong("fails")], help: "Also report failed execs (ENOENT, EACCES ...).")
    var fails = false
    @Option(
        name: [.customShort("n"), .customLong("name")],
        help: ArgumentHelp("Only show commands whose name matches REGEX.", valueName: "REGEX"))
    var name: String?
    @Option(
        name: [.customShort("l"), .customLong("line")],
        help: ArgumentHelp("Only show commands whose argument line matches REGEX.", valueName: "REGEX"))
    var line: String?
    @Option(
        name: [.customShort("u"), .customLong("uid")],
        help: ArgumentHelp("Only show commands of this user (name or UID).", valueName: "USER"))
    var user: String?
    @Option(
        name: [.customShort("P"), .customLong("ppid")],
        help: ArgumentHelp("Only show commands whose parent PID is PPID.", valueName: "PPID"))
    var ppid: Int32?
    @Option(
        name: .customShort("c"),
        help: ArgumentHelp(
            "Only show commands of processes in this cgroup v2 directory or below it (execsnoop's -c).",
            valueName: "CGROUP"))
    var cgroupFilter: String?
    @Option(name: .customLong("max-args"), help: "Show at most this many arguments.")
    var maxArgs: Int?
    @Option(help: "Output format on stdout: text or json (JSON Lines).")
    var format: SessionOptions.Format = .text
    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: ArgumentHelp("Write every event as JSON Lines to FILE.", valueName: "FILE"))
    var output: String?
    @Option(help: ArgumentHelp("Append violations as JSON Lines to FILE (flushed per line).", valueName: "FILE"))
    var violations: String?
    @Option(help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
    var duration: Double?
    @Option(
        help: ArgumentHelp(
            "Spin on the event ring this long after each event before sleeping: held execs are answered without a wakeup, at the cost of CPU during bursts (0: off).",
            valueName: "MICROSECONDS"))
    var busyPoll: Int = 0
    @Flag(help: "Print and log every file call of the tree (opens, deletes, renames ...), as opensnoop does.")
    var files = false
    @Flag(
        name: .customShort("S"),
        help: "No HTTPS capture (no SSL uprobes): no llm events, tool_use ids only from the hook.")
    var noSSL = false
    @Flag(
        name: .customShort("B"),
        help: "No bash events (no readline uprobe): lines typed into an interactive bash are neither shown nor judged, only what they exec.")
    var noBash = false
    @Flag(help: "Keep HTTPS request and response bodies and the model's text in the events (credentials stay redacted).")
    var captureBodies = false
    @Flag(help: "No status lines on stderr.")
    var quiet = false
    @Option(
        help: ArgumentHelp(
            "The policy: a YAML file, or a shipped policy's name (default, strict, audit, ci). Default: the embedded default policy.",
            valueName: "FILE|NAME"))
    var policy: String?
    @Flag(help: "Audit only: signal nothing, log what the policy would do (as `mode: audit`).")
    var audit = false
    @Option(
        help: ArgumentHelp(
            "What ${workspace} means in the policy (default: the guarded root's working directory, refused when it is /, a home directory or above one).",
            valueName: "DIR"))
    var workspace: String?
    @Option(
        help: ArgumentHelp(
            "Write a JSON summary (counts per rule, the violations) to FILE at the end.", valueName: "FILE"))
    var report: String?
    @Option(help: ArgumentHelp("Write JUnit XML (one test case per rule) to FILE at the end.", valueName: "FILE"))
    var junit: String?
    @Option(
        help: ArgumentHelp(
            "Exit 3 only for violations of these actions, e.g. kill,stop (alert, stop, kill, deny; default: any).",
            valueName: "ACTIONS"))
    var failOn: String?
    @Option(
        help: ArgumentHelp(
            "Exit 3 only for violations of this severity or above (info, low, medium, high, critical).",
            valueName: "SEVERITY"))
    var failOnSeverity: Severity?
    @OptionGroup var otlpOptions: OTLPOptions


    func validate() throws {
        if busyPoll < 0 || busyPoll > 1_000_000 {
            throw ValidationError("--busy-poll takes 0 to 1000000 microseconds.")
        }
        if let maxArgs, maxArgs < 1 { throw ValidationError("--max-args must be at least 1.") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be a positive number of seconds.") }
        if let user, resolveUser(user) == nil {
            throw ValidationError("Unknown user '\(user)': give a user name or a numeric UID.")
        }
        for (flag, value) in [("-n/--name", name), ("-l/--line", line)] {
            guard let value else { continue }
            do {
                _ = try SearchRegex(value)
            } catch {
                throw ValidationError("\(flag) '\(value)' is not a regular expression: \(error)")
            }
        }
        if let failOn {
            do {
                _ = try FailCriteria.actions(failOn)
            } catch {
                throw ValidationError(error.description)
            }
        }
        if let c = cgroupFilter, access(c + "/cgroup.procs", F_OK) != 0 {
            throw ValidationError("-c \(c) is not a cgroup v2 directory (no cgroup.procs in it).")
        }
        if let workspace, !isDirectory(workspace) {
            throw ValidationError(Workspace.Problem.missing(workspace).description)
        }
    }

    /// The workspace: --workspace, else `fallback` (the guarded process's working directory), which must not be
    /// /, a home directory or an ancestor of one when the policy has rules written against ${workspace}. A wide
    /// --workspace is warned about on stderr.
    ///
    /// - Throws: `ExitCode(64)` after saying why on stderr.
    func resolveWorkspace(fallback: String, policy: Policy, uids: [UInt32] = []) throws -> String {
        let cwd = FileManager.default.currentDirectoryPath
        do {
            let ws = try Workspace.resolve(
                given: workspace, fallback: fallback, cwd: cwd, homes: Workspace.homes(uids: uids),
                strict: policy.usesWorkspace)
            if let w = ws.warning, !quiet { Stderr.write("claude-guard: warning: \(w)\n") }
            return ws.path
        } catch {
            Stderr.write("claude-guard: error: \(error)\nThe guard did not start.\n")
            throw ExitCode(64)
        }
    }

    func sessionOptions() -> SessionOptions {
        var o = SessionOptions()
        o.format = format
        o.cgroupFilter = cgroupFilter
        o.failOn = FailCriteria(actions: failOn.flatMap { try? FailCriteria.actions($0) }, minSeverity: failOnSeverity)
        o.text = TextOptions(time: time, seconds: seconds, uid: uid, quote: quote, maxArgs: maxArgs ?? .max)
        o.outputPath = output
        o.violationsPath = violations
        o.fails = fails
        o.nameFilter = name
        o.lineFilter = line
        o.uidFilter = user.flatMap(resolveUser)
        o.ppidFilter = ppid
        o.duration = duration
        o.quiet = quiet
        o.busyPollUs = busyPoll
        o.audit = audit
        o.workspace = workspace
        o.reportPath = report
        o.junitPath = junit
        o.files = files
        o.noSSL = noSSL
        o.noBash = noBash
        o.captureBodies = captureBodies
        o.otlp = try? otlpOptions.config()
        return o
    }

    /// The policy given, or the embedded default.
    ///
    /// - Throws: `PolicyError` (file:line:column).
    func loadPolicy() throws -> Policy {
        try PolicyLocator.load(policy)
    }
}

extension SessionOptions.Format: ExpressibleByArgument {}
extension Severity: ExpressibleByArgument {}

func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
}

func resolveUser(_ user: String) -> UInt32? {
    if let uid = UInt32(user) { return uid }
    guard let pw = getpwnam(user) else { return nil }
    return pw.pointee.pw_uid
}

/// Runs a session body, turning errors into one paragraph on stderr and a non-3 exit code.
func runGuarded(_ body: () throws -> Int32) throws -> Never {
    do {
        let code = try body()
        throw ExitCode(code)
    } catch let error as GuardError {
        Stderr.write("claude-guard: error: \(error.description)\n")
        throw ExitCode(error.exitCode)
    } catch let error as PolicyError {
        Stderr.write("claude-guard: error: \(error.description)\nThe guard did not start.\n")
        throw ExitCode(2)
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Guard a running process (-p PID) and all its descendants until the tree exits."
    )

    @Option(name: [.customShort("p"), .customLong("pid")], help: "The PID to guard, with all its descendants.")
    var pid: Int32

    @OptionGroup var options: GuardOptions

    @Flag(help: "Do not ask y/N on the terminal for `stop` verdicts; use `claude-guard resume|kill PID`.")
    var noPrompt = false

    @Flag(help: "Let -p name a process whose tree is the whole system (PID 1, a container's init).")
    var yesWholeSystem = false

    @Flag(
        help:
            "Also guard every process of PID's session: daemons the agent started before attach, reparented away from its tree."
    )
    var session = false

    @Option(
        help: ArgumentHelp(
            "Also guard every process in this cgroup v2 directory and below it (e.g. the agent's systemd scope).",
            valueName: "DIR"))
    var cgroup: String?

    func validate() throws {
        if pid <= 0 { throw ValidationError("-p needs a positive PID.") }
        if let why = ProcFS.wholeSystem(pid), !yesWholeSystem {
            throw ValidationError(
                "-p \(pid) is \(why): its tree is every process of the system, claude-guard itself and your shell included. Give the agent's PID, or add --yes-whole-system if that is what you mean."
            )
        }
        if let cgroup, access(cgroup + "/cgroup.procs", F_OK) != 0 {
            throw ValidationError("--cgroup \(cgroup) is not a cgroup v2 directory (no cgroup.procs in it).")
        }
    }

    func run() throws {
        try runGuarded {
            guard ProcFS.exists(pid) else { throw GuardError.noSuchProcess(pid) }
            let policy = try options.loadPolicy()
            var o = options.sessionOptions()
            o.workspace = try options.resolveWorkspace(
                fallback: realPath("/proc/\(pid)/cwd") ?? "/", policy: policy,
                uids: ProcFS.owner(of: pid).map { [$0] } ?? [])
            // A terminal of its own: ask about `stop` verdicts there (run shares its terminal with the agent).
            o.prompt = isatty(STDIN_FILENO) == 1 && !noPrompt
            // No terminal to ask: a `stop` gets on_timeout after hold_timeout_ms.
            o.noTerminal = isatty(STDIN_FILENO) != 1
            o.session = session
            o.cgroupPath = cgroup
            let session = try GuardSession(options: o, policy: policy)
            return try session.watch(pid: pid)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command under guard; exit with its status, or 3 when any violation was recorded."
    )

    @OptionGroup var options: GuardOptions

    @Option(
        help: ArgumentHelp(
            "Seconds between SIGTERM and SIGKILL for descendants left when the command exits.", valueName: "SECONDS"))
    var grace: Double = 2

    @Flag(help: "Keep guarding descendants that outlive the command until they exit, instead of terminating them.")
    var keepDescendants = false

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty {
            throw ValidationError("Give the command to run after --, e.g. `claude-guard run -- claude`.")
        }
        if grace < 0 { throw ValidationError("--grace must not be negative.") }
    }

    func run() throws {
        try runGuarded {
            let policy = try options.loadPolicy()
            var o = options.sessionOptions()
            o.workspace = try options.resolveWorkspace(
                fallback: FileManager.default.currentDirectoryPath, policy: policy)
            o.grace = grace
            o.keepDescendants = keepDescendants
            // The command shares the terminal: a `stop` waits for `claude-guard resume|kill PID` there, and gets
            // on_timeout after hold_timeout_ms when there is no terminal at all (CI).
            o.noTerminal = isatty(STDIN_FILENO) != 1
            let session = try GuardSession(options: o, policy: policy)
            return try session.run(command: command)
        }
    }
}

/// Asks the running guard that holds PID (a `stop` verdict) to resume or kill it (`HeldRequests`), and says
/// what became of it.
private func request(_ verb: HeldRequests.Verb, pid: Int32) throws {
    do {
        try HeldRequests.send(verb, pid: pid)
    } catch {
        Stderr.write("claude-guard: error: \(error)\n")
        throw ExitCode(error.exitCode)
    }
    print(verb == .resume ? "resumed \(pid)" : "killed \(pid)")
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let a process stopped by a `stop` verdict run.")
    @Argument(help: "The stopped process.") var pid: Int32
    func run() throws { try request(.resume, pid: pid) }
}

struct KillHeld: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill", abstract: "Kill a process stopped by a `stop` verdict.")
    @Argument(help: "The stopped process.") var pid: Int32
    func run() throws { try request(.kill, pid: pid) }
}
