import ArgumentParser
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Writes an output: stdout, then stderr, retrying short writes.
private func writeOut(_ out: PolicyTool.Output) {
    for (fd, text) in [(Int32(1), out.stdout), (Int32(2), out.stderr)] where !text.isEmpty {
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + off }, bytes.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            off += n
        }
    }
}

/// Prints an output and exits with its code.
private func finishHook(_ out: PolicyTool.Output) throws -> Never {
    writeOut(out)
    throw ExitCode(out.exitCode)
}

/// The value of an environment variable, nil when unset or empty.
private func environment(_ name: String) -> String? {
    guard let v = getenv(name), v.pointee != 0 else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: v, count: strlen(v)), as: UTF8.self)
}

/// This process's working directory ("/" when it cannot be read).
private func workingDirectory() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, buf.count) != nil else { return "/" }
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// `claude-guard hook`: a Claude Code PreToolUse command hook.
struct Hook: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Judge one Claude Code tool call (PreToolUse hook JSON on stdin) with the policy.",
        discussion: """
            Claude Code runs it before each tool call (install it with `claude-guard init claude-code`). Bash \
            commands are judged by the command rules as `check` judges them (wrappers, chains and substitutions \
            unwrapped); Write, Edit, MultiEdit and NotebookEdit paths as writes and Read, Grep, Glob paths as reads \
            by the file rules; other tools only by rules whose `command` names the tool. kill answers deny, stop \
            asks the user, alert passes and is logged, an explicit allow rule answers allow; anything else gives \
            no decision, so Claude Code's own permission rules apply.

            Policy: --policy, else .claude/claude-guard.yaml of the project ($CLAUDE_PROJECT_DIR, or the nearest \
            directory above the call's cwd that has one), else ~/.claude/claude-guard.yaml, else the embedded \
            default. ${workspace} is --workspace, else $CLAUDE_PROJECT_DIR, else the call's cwd.

            Exit status: 0 with the decision as JSON on stdout (nothing for no decision); 1 when the call cannot \
            be judged (bad input, a policy that does not load): Claude Code shows the message and does not block. \
            With --fail-closed such calls are denied instead. When a guard runs on the agent (sudo claude-guard \
            -p PID), each Bash call let through is announced to it, so its execs carry the tool_use_id.

            Example:
              echo '{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf /"}}' | claude-guard hook
            """)

    @Option(
        help: ArgumentHelp("The policy (default: the project's, the user's, or the embedded one).", valueName: "FILE"))
    var policy: String?

    @Option(
        help: ArgumentHelp(
            "What ${workspace} means (default: $CLAUDE_PROJECT_DIR, else the call's cwd).", valueName: "DIR"))
    var workspace: String?

    @Flag(help: "Deny calls that cannot be judged (bad input, a broken policy) instead of passing them with an error.")
    var failClosed = false

    @Option(
        help: ArgumentHelp("Append every decision (deny, ask, alert, allow) as JSON Lines to FILE.", valueName: "FILE"))
    var log: String?

    @Flag(help: "Do not announce Bash calls to a guard running on the agent.")
    var noLink = false

    func run() throws {
        Hook.execute(
            Hook.options(policy: policy, workspace: workspace, failClosed: failClosed, log: log, noLink: noLink))
    }

    /// The options of one call, from the flags and `$CLAUDE_PROJECT_DIR`.
    static func options(
        policy: String?, workspace: String?, failClosed: Bool, log: String?, noLink: Bool
    )
        -> HookTool.Options
    {
        var o = HookTool.Options()
        o.policyPath = policy
        o.projectDir = environment("CLAUDE_PROJECT_DIR")
        o.workspace = workspace ?? o.projectDir
        o.failClosed = failClosed
        o.logPath = log
        if noLink { o.linkDirectory = nil }
        return o
    }

    /// Reads the call from stdin, judges it, prints the answer and exits with its code.
    static func execute(_ o: HookTool.Options) -> Never {
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var out: PolicyTool.Output?
        while out == nil {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                out = HookTool.failure(.unreadableInput(String(cString: strerror(errno))), options: o)
            } else if n == 0 {
                out = HookTool.run(input: input, options: o)
            } else {
                input.append(contentsOf: chunk[0..<n])
                if input.count > HookInput.maxBytes {
                    out = HookTool.failure(
                        .unreadableInput("more than \(HookInput.maxBytes >> 20) MiB on stdin"), options: o)
                }
            }
        }
        let result = out ?? PolicyTool.Output(exitCode: 1)
        writeOut(result)
        Glibc.exit(result.exitCode)
    }

    /// `claude-guard hook FLAGS` read without ArgumentParser, whose first parse in a process costs ~5 ms of the
    /// hook's ~10 (runtime conformance look-ups over every subcommand); nil when an argument is not one of
    /// `Hook`'s own flags exactly as written below (`--help`, `--policy=FILE`, a typo), which then go to
    /// ArgumentParser as usual.
    static func fastOptions(_ args: ArraySlice<String>) -> HookTool.Options? {
        var policy: String?
        var workspace: String?
        var log: String?
        var failClosed = false
        var noLink = false
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--fail-closed": failClosed = true
            case "--no-link": noLink = true
            case "--policy", "--workspace", "--log":
                guard let v = it.next(), !v.hasPrefix("-") else { return nil }
                if a == "--policy" { policy = v } else if a == "--workspace" { workspace = v } else { log = v }
            default: return nil
            }
        }
        return options(policy: policy, workspace: workspace, failClosed: failClosed, log: log, noLink: noLink)
    }
}

extension ClaudeGuard {
    /// The entry point: `claude-guard hook` with its plain flags straight to `Hook.execute` (Claude Code starts
    /// one process per tool call, within a 15 ms budget); everything else, `hook --help` included, through
    /// ArgumentParser (`main(nil)`), exactly as without this.
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        if args.first == "hook", let o = Hook.fastOptions(args.dropFirst()) { Hook.execute(o) }
        rejectUnknownCommand(args)
        main(nil)
    }
}

/// `claude-guard import`: other tools' rules as a policy.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn other tools' permission rules into a claude-guard policy.",
        subcommands: [ImportClaudeSettings.self])
}

/// `claude-guard import claude-settings FILE...`.
struct ImportClaudeSettings: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claude-settings",
        abstract: "Translate Claude Code permissions.deny/ask/allow into a policy (YAML on stdout, report on stderr).",
        discussion: """
            Bash(...) entries become command rules (judged on every unwrapped command, so chains, bash -c and \
            absolute paths no longer slip past), Read(...)/Edit(...) file rules, WebFetch(domain:...) and whole \
            tools (WebSearch, mcp__...) rules naming the tool. deny -> kill (files: deny), ask -> stop (files: \
            alert), allow -> allow; denies first, so a project's allow never loosens a user's deny. Each rule gets \
            a test, and the tests are run. Give the user's settings first, then the project's.

            Exit status: 0 all translated and tested, 1 some entries not translated or a test failed (each is \
            named), 2 a file cannot be read or nothing could be translated.

            Example:
              claude-guard import claude-settings ~/.claude/settings.json .claude/settings.json > .claude/claude-guard.yaml
            """)

    @Option(
        name: [.customShort("o"), .long],
        help: ArgumentHelp("Write the policy to FILE instead of stdout.", valueName: "FILE"))
    var output: String?

    @Argument(help: "Claude Code settings files (settings.json, settings.local.json).")
    var files: [String] = []

    func validate() throws {
        if files.isEmpty {
            throw ValidationError(
                "give Claude Code settings files: claude-guard import claude-settings ~/.claude/settings.json .claude/settings.json"
            )
        }
    }

    func run() throws {
        var out = ClaudeSettingsImport.run(paths: files, home: HookTool.Options().home)
        if let output, !out.stdout.isEmpty {
            do {
                try ClaudeCodeInit.write(Array(out.stdout.utf8), to: output, mode: 0o644)
            } catch {
                try finishHook(PolicyTool.Output(stderr: "claude-guard import: \(error.description)\n", exitCode: 2))
            }
            out.stderr += "claude-guard import: wrote \(output)\n"
            out.stdout = ""
        }
        try finishHook(out)
    }
}

/// `claude-guard init`: install integrations.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Install claude-guard into an agent's configuration.", subcommands: [InitClaudeCode.self])
}

/// `claude-guard init claude-code [--project|--local|--user]`.
struct InitClaudeCode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claude-code",
        abstract: "Write the claude-guard PreToolUse hook into Claude Code's settings (merged, with a backup).",
        discussion: """
            --project (the default) writes .claude/settings.json of the current directory, --local \
            .claude/settings.local.json, --user ~/.claude/settings.json. The file's other keys and hooks are kept; \
            the old file is saved as FILE.bak-TIME; running it again changes nothing.

            Example:
              claude-guard init claude-code --project
            """)

    enum Scope: String, EnumerableFlag {
        case project, local, user
    }

    @Flag(help: "Which settings file gets the hook.")
    var scope: Scope = .project

    @Option(help: ArgumentHelp("Run the hook with this policy (default: found per call).", valueName: "FILE"))
    var policy: String?

    @Flag(help: "Install the hook with --fail-closed (calls it cannot judge are denied).")
    var failClosed = false

    func run() throws {
        let cwd = workingDirectory()
        let home = HookTool.Options().home
        let target: ClaudeCodeInit.Target
        switch scope {
        case .project: target = .project(cwd)
        case .local: target = .local(cwd)
        case .user: target = .user(home)
        }
        var flags: [String] = []
        if let policy { flags += ["--policy", policy.hasPrefix("/") ? policy : cwd + "/" + policy] }
        if failClosed { flags.append("--fail-closed") }
        let binary = realPath("/proc/self/exe") ?? "claude-guard"
        try finishHook(ClaudeCodeInit.run(target: target, binary: binary, hookFlags: flags, cwd: cwd, home: home))
    }
}
