import ArgumentParser
import GuardCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Options shared by `check`: the policy and the workspace.
struct PolicyOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Policy file, or a shipped policy's name (default, strict, audit, ci). Default: the embedded default.",
            valueName: "FILE|NAME"))
    var policy: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Directory ${workspace} stands for (default: the current directory, unless it is /, a home or above one).",
            valueName: "DIR"))
    var workspace: String?
}

/// The workspace `check` judges with: `--workspace DIR`, else this directory; a default of `/`, a home directory or
/// an ancestor of one is refused (exit 64) when the policy has rules written against `${workspace}`.
private func checkWorkspace(_ given: String?, policy: Policy) throws -> String {
    let cwd = currentDirectory()
    do {
        let ws = try Workspace.resolve(
            given: given, fallback: cwd, cwd: cwd, homes: Workspace.homes(), strict: policy.usesWorkspace)
        if let w = ws.warning { writeAll(2, Array("claude-guard check: warning: \(w)\n".utf8)) }
        return ws.path
    } catch {
        writeAll(2, Array("claude-guard check: error: \(error)\n".utf8))
        throw ExitCode(64)
    }
}

/// Prints an output and exits with its code.
private func finish(_ out: PolicyTool.Output) throws -> Never {
    writeAll(1, Array(out.stdout.utf8))
    writeAll(2, Array(out.stderr.utf8))
    throw ExitCode(out.exitCode)
}

/// Writes every byte to a file descriptor, retrying short writes.
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { writeAll(fd, $0) }
}

private func writeAll(_ fd: Int32, _ buf: UnsafeBufferPointer<UInt8>) {
    guard let base = buf.baseAddress else { return }
    var off = 0
    while off < buf.count {
        let n = write(fd, base + off, buf.count - off)
        if n <= 0 {
            if n < 0 && errno == EINTR { continue }
            return
        }
        off += n
    }
}

/// What follows PATH in `check --file-access ACCESS PATH ...`: the options that may still come after it.
struct FileAccessOperands: ParsableArguments {
    @Argument(help: "The file.")
    var path: String

    @Option(name: .long)
    var process: String?

    @Option(name: .long)
    var workspace: String?

    @Option(name: .long)
    var policy: String?

    @Option(name: .long)
    var format: String?
}

/// `claude-guard check`: what would the policy do with a command? No root needed.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what the policy would do with a command, with each line of a file, or with a file access.",
        discussion: """
            Exit status: 0 when every command (or the file access) is allowed, 1 when the policy would act on any, \
            2 on errors.

            Examples:
              claude-guard check --policy policies/strict.yaml -- rm -rf /
              claude-guard check -- sh -c 'cd /tmp && rm -fr ~'
              claude-guard check --file commands.txt --format json
              claude-guard check --file-access read ~/.ssh/id_ed25519 --process python3
              claude-guard check --file-access delete /etc/hosts --workspace ~/project
              claude-guard check --explain --policy strict -- bash -c 'git push -f'

            ${workspace} is --workspace DIR, else the current directory; run from /, a home directory or a \
            directory above one, check refuses to guess (exit 64) unless --workspace names it.
            """)

    @OptionGroup var options: PolicyOptions

    @Option(
        name: .long,
        help: ArgumentHelp("Judge each line of FILE as a shell command line ('-' for stdin).", valueName: "FILE"))
    var file: String?

    @Option(name: .long, help: "Output format: text or json (one JSON object per line).")
    var format: String = "text"

    @Option(
        name: .customLong("file-access"),
        help: ArgumentHelp(
            "Judge ACCESS to the file PATH (given after the options) by the policy's file rules: \(FileAccess.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "ACCESS"))
    var fileAccess: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --file-access: the program doing it, a name or a path (default: unknown).", valueName: "CMD"))
    var process: String?

    @Flag(
        help:
            "Before the verdict, list for each command after unwrapping every rule tried and the first key that did not match (or that it matched)."
    )
    var explain = false

    /// Judges every line afresh instead of reusing the verdict of an identical earlier line (engine benchmark).
    @Flag(name: .customLong("no-line-cache"), help: .hidden)
    var noLineCache = false

    /// Evaluates every line in full, without the prefilter that proves most lines allowed from their bytes
    /// (engine benchmark and differential tests).
    @Flag(name: .customLong("no-prefilter"), help: .hidden)
    var noPrefilter = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after '--'.")
    var command: [String] = []

    func validate() throws {
        // `check --help`, `check -h`: help (a command to judge comes after `--`: `check -- --help`).
        if let first = command.first, first == "--help" || first == "-h" || first == "-help" {
            throw CleanExit.helpRequest(self)
        }
        if PolicyTool.Format(rawValue: format) == nil {
            throw ValidationError("--format must be text or json")
        }
        if explain && (file != nil || fileAccess != nil) {
            throw ValidationError("--explain goes with one command: check --explain -- rm -rf /tmp/x")
        }
        if let fileAccess {
            if FileAccess(rawValue: fileAccess) == nil {
                let all = FileAccess.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--file-access must be one of: \(all) (e.g. --file-access read ~/.ssh/id_rsa)")
            }
            if file != nil { throw ValidationError("give either --file or --file-access, not both") }
            let operands = try fileOperands()
            if let f = operands.format, PolicyTool.Format(rawValue: f) == nil {
                throw ValidationError("--format must be text or json")
            }
            return
        }
        if process != nil {
            throw ValidationError(
                "--process goes with --file-access: check --file-access read ~/.ssh/id_rsa --process python3")
        }
        if file == nil && command.filter({ $0 != "--" }).isEmpty {
            throw ValidationError("give a command after '--' (check -- rm -rf /) or --file FILE")
        }
        if file != nil && !command.filter({ $0 != "--" }).isEmpty {
            throw ValidationError("give either --file or a command, not both")
        }
    }

    /// PATH and the options written after it, for `--file-access`.
    ///
    /// - Throws: `ValidationError` when PATH is missing or an option after it is unknown.
    private func fileOperands() throws -> FileAccessOperands {
        var words = command
        if words.first == "--" { words.removeFirst() }
        if words.isEmpty {
            throw ValidationError(
                "give the file after --file-access \(fileAccess ?? "ACCESS"): e.g. check --file-access read ~/.ssh/id_rsa"
            )
        }
        do {
            return try FileAccessOperands.parse(words)
        } catch {
            throw ValidationError(
                "after --file-access ACCESS PATH only --process CMD, --workspace DIR, --policy FILE and --format FORMAT may follow: \(FileAccessOperands.message(for: error))"
            )
        }
    }

    func run() throws {
        let operands = fileAccess == nil ? nil : try fileOperands()
        let policy: Policy
        do {
            policy = try PolicyTool.loadPolicy(operands?.policy ?? options.policy)
        } catch {
            try finish(PolicyTool.failure(error))
        }
        let fmt = PolicyTool.Format(rawValue: operands?.format ?? format) ?? .text
        let workspace = try checkWorkspace(operands?.workspace ?? options.workspace, policy: policy)
        if let operands, let access = fileAccess.flatMap(FileAccess.init(rawValue:)) {
            try finish(
                PolicyTool.checkFile(
                    policy: policy, access: access, path: operands.path, process: operands.process ?? process,
                    workspace: workspace, cwd: currentDirectory(), format: fmt))
        }
        guard let file else {
            var argv = command
            if argv.first == "--" { argv.removeFirst() }
            try finish(
                PolicyTool.check(
                    policy: policy, argv: argv, workspace: workspace, cwd: currentDirectory(), format: fmt,
                    explain: explain))
        }
        guard let data = readAll(file) else {
            try finish(
                PolicyTool.Output(
                    stderr:
                        "claude-guard check: cannot read '\(file)'; give an existing file of command lines, one per line\n",
                    exitCode: 2))
        }
        let code = data.withUnsafeBufferPointer { buf in
            PolicyTool.checkLines(
                policy: policy, text: buf, workspace: workspace, format: fmt, memo: !noLineCache,
                prefilter: !noPrefilter
            ) { chunk in
                writeAll(1, chunk)
            }
        }
        throw ExitCode(code)
    }
}

/// `claude-guard test`: run the `tests:` written in policies.
struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the test cases written in policies (their tests: section).",
        discussion: """
            Each failure is named with its file:line. Exit status: 0 when all pass, 1 when any fails (or a policy has no tests), 2 when a policy is invalid.

            Example:
              claude-guard test policies/*.yaml
            """)

    @Argument(help: "Policy files or shipped policies' names.")
    var policies: [String]

    @Flag(
        help:
            "After each failing command test, list every rule tried on each of its commands and why it did or did not match."
    )
    var explain = false

    func validate() throws {
        if policies.isEmpty {
            throw ValidationError("give one or more policy files: claude-guard test policies/strict.yaml")
        }
    }

    func run() throws {
        try finish(PolicyTool.test(paths: policies, explain: explain))
    }
}

/// `claude-guard lint`: validate policies and warn about dead rules.
struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate policies and warn about rules that are shadowed or can never match.",
        discussion: """
            Errors name file:line:column and what to write instead. Exit status: 0 clean, 1 warnings, 2 invalid.

            Example:
              claude-guard lint policies/strict.yaml
            """)

    @Argument(help: "Policy files.")
    var policies: [String]

    func validate() throws {
        if policies.isEmpty {
            throw ValidationError("give one or more policy files: claude-guard lint policies/strict.yaml")
        }
    }

    func run() throws {
        try finish(PolicyTool.lint(paths: policies))
    }
}

/// This process's working directory ("/" when it cannot be read).
private func currentDirectory() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buf, buf.count) != nil else { return "/" }
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Reads a whole file (or stdin for "-") into memory.
private func readAll(_ path: String) -> [UInt8]? {
    let fd = path == "-" ? 0 : open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { if fd != 0 { close(fd) } }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { return nil }
        if n == 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
