/// What a policy does about a command, weakest first: `allow < alert < stop < kill`.
public enum Action: String, Sendable, Comparable, CaseIterable, Codable {
    /// Let it run; nothing is logged as a violation.
    case allow
    /// Let it run and record a violation.
    case alert
    /// Hold the process (SIGSTOP) and record a violation; a human decides.
    case stop
    /// Kill the process (SIGKILL) before it runs an instruction.
    case kill

    var rank: Int {
        switch self {
        case .allow: return 0
        case .alert: return 1
        case .stop: return 2
        case .kill: return 3
        }
    }

    public static func < (lhs: Action, rhs: Action) -> Bool { lhs.rank < rhs.rank }
}

/// How bad a rule's match is, for reports.
public enum Severity: String, Sendable, CaseIterable, Codable {
    case info, low, medium, high, critical
}

/// Whether a policy acts (`enforce`) or only records what it would do (`audit`).
public enum PolicyMode: String, Sendable, CaseIterable, Codable {
    case enforce, audit
}

/// One program execution to judge: a real exec reported by the kernel, or one command of a `check` line.
public struct ExecContext: Sendable {
    /// The full argv; `argv[0]` never decides which program this is.
    public var argv: [String]
    /// The real path of the executable (symlinks resolved), or for a `check` line the name resolved over `PATH`.
    public var path: String
    /// The executable as given to exec (before symlink resolution), when known.
    public var filename: String?
    /// The process's working directory, when known.
    public var cwd: String?
    /// The real uid the program runs as, when known.
    public var uid: UInt32? {
        get { env.shared.uid }
        set { update { $0.uid = newValue } }
    }
    /// The user name the program runs as, when known (e.g. from `sudo -u NAME`).
    public var userName: String? {
        get { env.shared.userName }
        set { update { $0.userName = newValue } }
    }
    /// Extra program names this executable is known to be (e.g. a renamed copy of `rm` found by content).
    ///
    /// The exec's own: the commands of a script it runs (`bash -c 'python3 -c X'`) and the payloads it wraps are
    /// other programs, and never inherit them.
    public var identities: [String] = []
    /// The guarded root's working directory, or `--workspace DIR`; `${workspace}` in a policy expands to it.
    public var workspace: String? {
        get { env.shared.workspace }
        set { update { $0.workspace = newValue } }
    }
    /// The parent process, when known.
    public var parent: ExecContext? {
        get { env.shared.parent?.value }
        set { update { $0.parent = newValue.map(Box.init) } }
    }

    /// What the commands of one script (and the payloads of one wrapper) share: who runs them, where the
    /// workspace is, their parent.
    struct Shared: Sendable {
        var uid: UInt32?
        var userName: String?
        var workspace: String?
        var parent: Box?
    }

    /// `Shared` behind one reference, so a command's context is built and copied without a retain per shared
    /// field. Immutable: a setter above replaces it.
    final class Env: Sendable {
        let shared: Shared
        init(_ shared: Shared) { self.shared = shared }
    }

    private mutating func update(_ change: (inout Shared) -> Void) {
        var s = env.shared
        change(&s)
        env = Env(s)
    }

    private var env: Env

    /// Indices of argv words whose value is unknown statically (only for commands parsed from shell text).
    var unknownWords: [Int] = []
    /// Basenames of `path` and `filename`, when the resolver computed them already.
    var resolvedNames: [String]?
    /// Cached facts about the command name (only within one `check --file` run).
    var nameInfo: NameInfo?
    /// Whether the working directory is unknown (after `cd "$X"`): relative paths may be anywhere.
    var cwdUnknown = false
    /// Files its standard input is redirected from in the shell text (`cat < FILE`): read as if named, so they are
    /// path operands too. Exec'd payloads of a wrapper inherit them (`sudo cat < FILE`).
    var inputFiles: [String] = []

    final class Box: Sendable {
        let value: ExecContext
        init(_ value: ExecContext) { self.value = value }
    }

    public init(
        argv: [String], path: String, filename: String? = nil, cwd: String? = nil, uid: UInt32? = nil,
        userName: String? = nil, identities: [String] = [], parent: ExecContext? = nil, workspace: String? = nil
    ) {
        self.argv = argv
        self.path = path
        self.filename = filename
        self.cwd = cwd
        self.identities = identities
        self.env = Env(Shared(uid: uid, userName: userName, workspace: workspace, parent: parent.map(Box.init)))
    }

    /// One command of a script: its own argv, executable and directory; the template's uid, user, workspace and
    /// parent (shared, not re-boxed). Not the template's identities: those name the shell, not this command.
    init(
        command argv: [String], path: String, filename: String?, cwd: String?, cwdUnknown: Bool,
        unknownWords: [Int], resolvedNames: [String]?, nameInfo: NameInfo?, inputFiles: [String] = [],
        template: borrowing ExecContext
    ) {
        self.argv = argv
        self.path = path
        self.filename = filename
        self.cwd = cwd
        self.env = template.env
        self.unknownWords = unknownWords
        self.resolvedNames = resolvedNames
        self.nameInfo = nameInfo
        self.cwdUnknown = cwdUnknown
        self.inputFiles = inputFiles
    }

    /// The command line: argv joined by single spaces.
    public var commandLine: String { argv.joined(separator: " ") }
}

/// The policy's decision about one exec or one command line.
public struct Verdict: Sendable, Equatable {
    /// What the policy asks for (in audit mode this is what it *would* do).
    public var action: Action
    /// The id of the rule that decided, nil when the default (or an unknown-command setting) did.
    public var rule: String?
    /// The deciding rule's severity.
    public var severity: Severity?
    /// The (unwrapped, inner) command that hit the rule, as a command line.
    public var matched: String?
    /// The deciding rule's description, or why a setting decided.
    public var description: String?

    public init(
        action: Action, rule: String? = nil, severity: Severity? = nil, matched: String? = nil,
        description: String? = nil
    ) {
        self.action = action
        self.rule = rule
        self.severity = severity
        self.matched = matched
        self.description = description
    }
}

/// Quotes one argv word for a POSIX shell when it needs quoting.
///
/// Words made only of safe characters are returned as they are; others are single-quoted with embedded single
/// quotes written `'\''`. Parsing the result with `ShellScript.parse` gives the word back.
public func shellQuote(_ word: String) -> String {
    if word.isEmpty { return "''" }
    var safe = true
    for c in word.utf8 {
        switch c {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x2E, 0x2F, 0x3A, 0x2C, 0x2B, 0x40, 0x25, 0x3D:
            continue
        default:
            safe = false
        }
        if !safe { break }
    }
    if safe { return word }
    return quoteAlways(word)
}

/// Single-quotes a word, writing embedded single quotes as `'\''`.
func quoteAlways(_ word: String) -> String {
    var out = "'"
    for ch in word.unicodeScalars {
        if ch == "'" { out += "'\\''" } else { out.unicodeScalars.append(ch) }
    }
    return out + "'"
}

/// Joins argv into a command line that a shell parses back into the same words.
public func shellJoin(_ argv: [String]) -> String {
    var out = ""
    for (i, w) in argv.enumerated() {
        if i > 0 { out += " " }
        // In command position a reserved word or a NAME=value word would not be read as the command name.
        if i == 0 && (reservedWords.contains(w) || w.utf8.contains(0x3D)) {
            out += quoteAlways(w)
        } else {
            out += shellQuote(w)
        }
    }
    return out
}

private let reservedWords: Set<String> = [
    "if", "then", "elif", "else", "fi", "do", "done", "case", "esac", "while", "until", "for", "select", "in",
    "function", "time", "coproc", "{", "}", "!", "[[", "]]",
]
