import ArgumentParser
import GuardCore
import GuardKernel

#if canImport(Glibc)
    import Glibc
#endif

/// `claude-guard version` (and `--version`): the version, the BPF object's build id and libbpf's version.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version, the BPF object's build id and libbpf's version.")

    func run() { print(BuildInfo.text) }
}

/// `claude-guard policy ...`: the policies themselves.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Show a policy as claude-guard reads it.", subcommands: [PolicyShow.self])
}

/// `claude-guard policy show [NAME|FILE]`.
struct PolicyShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the effective policy: anchors expanded, every setting and severity filled in.",
        discussion: """
            NAME is a shipped policy (default, strict, audit, ci), found beside the installed binary \
            (PREFIX/share/claude-guard/policies), in the source tree it was built in, or in $CLAUDE_GUARD_POLICIES; \
            default is the one compiled into the binary. Exit status: 0, or 2 when the policy is invalid.

            Examples:
              claude-guard policy show                 # the embedded default
              claude-guard policy show strict
              claude-guard policy show ./my-policy.yaml
            """)

    @Argument(
        help: ArgumentHelp(
            "A shipped policy's name or a policy file (default: the embedded default).", valueName: "NAME|FILE"))
    var policy: String?

    func run() throws {
        let out = PolicyTool.show(policy)
        print(out.stdout, terminator: "")
        Stderr.write(out.stderr)
        throw ExitCode(out.exitCode)
    }
}

extension ClaudeGuard {
    /// `claude-guard frobnicate`: not a command. Without this, the default command (`watch`) would read the word as
    /// a stray argument and ask for `--pid`.
    static func rejectUnknownCommand(_ args: ArraySlice<String>) {
        guard let first = args.first, !first.hasPrefix("-") else { return }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if names.contains(first) { return }
        Stderr.write(
            "claude-guard: '\(first)' is not a command. Commands: \(names.joined(separator: ", ")). "
                + "To guard a running process: claude-guard -p PID; to run one: claude-guard run -- CMD.\n")
        Glibc.exit(64)
    }
}
