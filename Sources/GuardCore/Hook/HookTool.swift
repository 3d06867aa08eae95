#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The logic of `claude-guard hook`: one call's input in, Claude Code's hook output and exit code out, so that the
/// CLI only reads stdin and prints, and golden tests run in-process.
///
/// Output protocol (Claude Code's, for PreToolUse command hooks): exit 0 with
/// `{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny|ask|allow",
/// "permissionDecisionReason":...}}` on stdout for a decision; exit 0 and nothing on stdout for no decision; an
/// alert adds `systemMessage` (shown to the user) and a line on stderr. A call that cannot be judged (bad input,
/// a policy that does not load) exits 1, which Claude Code reports without blocking the tool; exit 2 (a blocking
/// error) is never used. With `failClosed` such a call is denied instead, in JSON, with the reason.
public enum HookTool {
    /// What `claude-guard hook` is told by its flags and environment.
    public struct Options: Sendable {
        /// `--policy FILE`; nil: the project's, the user's, or the embedded default (`locatePolicy`).
        public var policyPath: String?
        /// `--workspace DIR`; nil: the call's `cwd`.
        public var workspace: String?
        /// `--fail-closed`: deny what cannot be judged instead of passing it with an error.
        public var failClosed = false
        /// `--log FILE`: decisions as JSON Lines (nil: none).
        public var logPath: String?
        /// Where running guards listen for tool_use ids (nil: tell no guard).
        public var linkDirectory: String? = HookTool.linkDirectory
        /// The owner the link directory and sockets must have (root; tests use their own uid).
        public var linkOwner: uid_t = 0
        /// `$CLAUDE_PROJECT_DIR`, which Claude Code sets for hooks.
        public var projectDir: String?
        /// The user's home directory.
        public var home: String = Paths.home
        /// The program doing file tools' work (Claude Code); nil: found from this process's parents.
        public var agentProgram: String?

        public init() {}
    }

    /// Where guards started with `-p`/`run` listen for the hook (`hook-<pid>.sock`).
    public static let linkDirectory = "/run/claude-guard"
    /// The policy file looked for in a project's and the user's `.claude` directory.
    public static let policyFileName = "claude-guard.yaml"

    /// Where the policy of a call comes from.
    public enum PolicySource: Sendable, Equatable {
        case flag(String)
        case project(String)
        case user(String)
        case embedded

        public var path: String? {
            switch self {
            case .flag(let p), .project(let p), .user(let p): return p
            case .embedded: return nil
            }
        }
    }

    /// `--policy`, else `.claude/claude-guard.yaml` of the project (`$CLAUDE_PROJECT_DIR`, else the nearest
    /// directory at or above `cwd` that has one, below the home directory), else `~/.claude/claude-guard.yaml`,
    /// else the embedded default.
    public static func locatePolicy(flag: String?, projectDir: String?, cwd: String?, home: String) -> PolicySource {
        if let flag { return .flag(flag) }
        let user = home + "/.claude/" + policyFileName
        func exists(_ p: String) -> Bool { access(p, R_OK) == 0 }
        if let projectDir, projectDir.hasPrefix("/") {
            let p = Paths.normalize(projectDir) + "/.claude/" + policyFileName
            if p != user && exists(p) { return .project(p) }
        } else if let cwd, cwd.hasPrefix("/") {
            var dir = Paths.normalize(cwd)
            while dir != "/" && dir != home {
                let p = dir + "/.claude/" + policyFileName
                if exists(p) { return .project(p) }
                dir = dir.lastIndex(of: "/").map { i in i == dir.startIndex ? "/" : String(dir[..<i]) } ?? "/"
            }
        }
        return exists(user) ? .user(user) : .embedded
    }

    /// Judges one call given as the bytes of the hook's standard input.
    public static func run(input bytes: [UInt8], options: Options) -> PolicyTool.Output {
        let input: HookInput
        do {
            input = try HookInput.parse(bytes)
        } catch {
            return failure(error, options: options)
        }
        let source = locatePolicy(
            flag: options.policyPath, projectDir: options.projectDir, cwd: input.cwd, home: options.home)
        let policy: Policy
        do {
            policy = try loadPolicy(source)
        } catch {
            return failure(.policy(error), options: options)
        }
        let judge = HookJudge(
            policy: policy, workspace: options.workspace,
            processPath: options.agentProgram ?? agentProgram(),
            protectedFiles: protectedFiles(
                source: source, projectDir: options.projectDir ?? input.cwd, home: options.home))
        let decision: HookDecision
        do {
            decision = try judge.judge(input)
        } catch {
            return failure(error, options: options)
        }
        if let log = options.logPath, decision != .pass {
            appendLog(log, input: input, decision: decision, policy: policy)
        }
        if input.toolName == "Bash", decision.permission != .deny, let id = input.toolUseID,
            let dir = options.linkDirectory, let command = try? input.argument("command")
        {
            let record = ToolUseRecord(
                toolUseID: id, command: command, cwd: input.cwd, sessionID: input.sessionID, time: wallSeconds())
            _ = HookLinkClient.send(record, directory: dir, owner: options.linkOwner)
        }
        return output(decision)
    }

    /// The policy of a call, loaded without its `tests:` (a third of the default policy's text, and 2–3 ms of a
    /// call's ~13 ms: the hook never runs them; `claude-guard test` and `lint` do). The lines of the tests are
    /// blanked, not removed, so every rule keeps its line:column. When the text without its tests does not load
    /// (an anchor defined in a test and used elsewhere, say), the whole text is loaded, for its own errors.
    ///
    /// - Throws: `PolicyError` of the whole text, with file:line:column.
    public static func loadPolicy(_ source: PolicySource) throws(PolicyError) -> Policy {
        let text: String
        let file: String
        if let path = source.path {
            guard let bytes = ClaudeSettingsImport.readFile(path) else { return try Policy.load(path: path) }
            let s = String(decoding: bytes, as: UTF8.self)
            guard s.utf8.count == bytes.count else { return try Policy.load(path: path) }
            (text, file) = (s, path)
        } else {
            (text, file) = (Policy.embeddedDefaultText, "<embedded default.yaml>")
        }
        let stripped = withoutTests(text)
        if stripped != text, let p = try? Policy.load(yaml: stripped, file: file) { return p }
        return try Policy.load(yaml: text, file: file)
    }

    /// YAML text with the lines of its top-level `tests:` entry blanked (up to the next top-level key).
    static func withoutTests(_ yaml: String) -> String {
        var out: [Substring] = []
        var skipping = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            // A top-level key, or a document marker, ends the block (`- item` at column 0 may be one of its items).
            if let c = line.first,
                c.isLetter || c == "_" || c == "\"" || c == "'" || line.hasPrefix("---")
                    || line.hasPrefix("...")
            {
                skipping = line.hasPrefix("tests:")
            }
            out.append(skipping ? "" : line)
        }
        return out.joined(separator: "\n")
    }

    /// The stdout JSON (and stderr line) for a decision.
    public static func output(_ d: HookDecision) -> PolicyTool.Output {
        var out = PolicyTool.Output()
        if let p = d.permission {
            var hook: [JSONValue.Member] = [
                .init("hookEventName", .string("PreToolUse")), .init("permissionDecision", .string(p.rawValue)),
            ]
            if let r = d.reason { hook.append(.init("permissionDecisionReason", .string(r))) }
            out.stdout = JSONValue.object([.init("hookSpecificOutput", .object(hook))]).compact + "\n"
        } else if d.alert, let r = d.reason {
            out.stdout = JSONValue.object([.init("systemMessage", .string(r))]).compact + "\n"
            out.stderr = r + "\n"
        }
        return out
    }

    /// A call that could not be judged: exit 1 (Claude Code shows the message and goes on), or a deny with the
    /// reason under `--fail-closed`.
    public static func failure(_ e: HookError, options: Options) -> PolicyTool.Output {
        let message = "claude-guard hook: error: \(e.description)"
        guard options.failClosed else { return PolicyTool.Output(stderr: message + "\n", exitCode: 1) }
        var out = output(
            HookDecision(
                permission: .deny,
                reason: "claude-guard could not judge this call and runs with --fail-closed: \(e.description)",
                action: "error"))
        out.stderr = message + "\n"
        return out
    }

    /// The hook's own configuration: the policy in use and the settings files that can install or remove it.
    static func protectedFiles(source: PolicySource, projectDir: String?, home: String) -> [String] {
        var files = [home + "/.claude/settings.json", home + "/.claude/" + policyFileName]
        if let p = source.path { files.append(Paths.absolute(p, cwd: Paths.currentDirectory)) }
        if let dir = projectDir, dir.hasPrefix("/") {
            for name in ["settings.json", "settings.local.json", policyFileName] {
                files.append(Paths.normalize(dir) + "/.claude/" + name)
            }
        }
        return files
    }

    /// The program Claude Code runs as: the first parent of this process that is not a shell (hooks are started
    /// through `sh -c`), from /proc; nil when unknown.
    static func agentProgram() -> String? {
        var pid = getppid()
        for _ in 0..<4 where pid > 1 {
            guard let exe = Paths.realPath("/proc/\(pid)/exe") else { return nil }
            if !["sh", "bash", "dash", "zsh", "ksh", "busybox"].contains(Paths.basename(exe)) { return exe }
            guard let stat = ProcStat.ppid(of: pid) else { return nil }
            pid = stat
        }
        return nil
    }

    /// Appends one JSON line about a decision; a log that cannot be written is skipped (logging never changes a
    /// decision).
    static func appendLog(_ path: String, input: HookInput, decision d: HookDecision, policy: Policy) {
        var w = JSONWriter()
        w.beginObject()
        w.field("type", "hook")
        let now = wallSeconds()
        w.field("time", RFC3339.format(WallTime(seconds: Int64(now), micros: Int32((now - now.rounded(.down)) * 1e6))))
        w.field("tool", input.toolName)
        w.field("tool_use_id", input.toolUseID)
        w.field("session_id", input.sessionID)
        w.field("cwd", input.cwd)
        w.field("decision", d.permission?.rawValue ?? (d.alert ? "alert" : "none"))
        w.field("action", d.action)
        w.field("rule", d.rule)
        w.field("matched", d.matched)
        w.field("reason", d.reason)
        w.field("policy", policy.name)
        w.endObject()
        w.newline()
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = w.bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// The parent pid from /proc/PID/stat (the field after the parenthesised command name).
enum ProcStat {
    static func ppid(of pid: Int32) -> Int32? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 512)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let close = buf[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = buf[(close + 1)..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 1 else { return nil }
        return Int32(String(decoding: fields[1], as: UTF8.self))
    }
}
