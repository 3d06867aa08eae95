/// One word of a simple command after quote removal.
///
/// A word whose value cannot be known without running the shell (`$X`, `$(...)`, `${X:-y}`, `$((1+2))`)
/// is *unknown*: `text` then holds its source text and `isKnown` is false. Nothing is guessed.
public struct ShellWord: Sendable, Equatable {
    /// The value after quote removal when known, else the source text of the word.
    public var text: String
    /// Whether `text` is the word's value (true) or only its source text (false).
    public var isKnown: Bool

    public init(text: String, isKnown: Bool) {
        self.text = text
        self.isKnown = isKnown
    }

    /// The value when known, else nil.
    public var value: String? { isKnown ? text : nil }
}

/// A redirection of a simple or compound command (`>file`, `2>&1`, `<<EOF`).
public struct ShellRedirection: Sendable, Equatable {
    /// The operator as written: `>`, `>>`, `<`, `<>`, `>|`, `>&`, `<&`, `&>`, `&>>`, `<<`, `<<-`, `<<<`.
    public var op: String
    /// The file descriptor written before the operator, if any.
    public var fd: Int?
    /// The target word (file name, descriptor, here-string or here-document delimiter).
    public var target: ShellWord
    /// A here-document's text (`<<`, `<<-`) once its lines are read, for a simple command's redirection; nil
    /// otherwise.
    public var body: String? = nil
}

extension SimpleCommand {
    /// The text the command reads as its standard input from a here-string or here-document, when known: the
    /// script a shell run without `-c` executes (`bash <<< 'cmd'`, `sh <<'EOF' ... EOF`). A here-string whose
    /// word is not known statically sets `unknown` (and `text` is its source text).
    func stdinText() -> Stdin {
        var result = Stdin()
        for r in redirections where r.fd == nil || r.fd == 0 {
            switch r.op {
            case "<<<": result = Stdin(text: r.target.text, unknown: !r.target.isKnown)
            case "<<", "<<-": result = Stdin(text: r.body)
            case "<", "<>", "<&": result = Stdin()
            default: break
            }
        }
        return result
    }
}

extension SimpleCommand {
    /// The files the command's standard input is redirected from, when known (`< FILE`, `<> FILE`).
    func inputFiles() -> [String] {
        var out: [String] = []
        for r in redirections where (r.fd == nil || r.fd == 0) && (r.op == "<" || r.op == "<>") && r.target.isKnown {
            out.append(r.target.text)
        }
        return out
    }
}

/// One simple command: assignments, argv words and redirections.
public struct SimpleCommand: Sendable, Equatable {
    /// `NAME=value` assignments written before the command name, as source text.
    public var assignments: [String] = []
    /// argv: the command name and its arguments, each a word's value or, when `unknown` lists it, its source
    /// text. Kept as the evaluator reads it (one array shared, not rebuilt per command).
    public var argv: [String] = []
    /// Indices in `argv` of the words whose value is unknown statically, ascending.
    public var unknown: [Int] = []
    /// argv after brace expansion (`{rm,-rf,x}` is `rm -rf x`), when a word expanded; nil otherwise.
    public var expanded: ExpandedArgv?
    /// Redirections written among the words.
    public var redirections: [ShellRedirection] = []
    /// Byte offset of the command's first token in the parsed text.
    public var offset: Int = 0
    /// Whether the command runs inside a command or process substitution.
    public var inSubstitution: Bool = false

    public init() {}

    /// argv as words: each with its text and whether that text is its value.
    public var words: [ShellWord] {
        var out: [ShellWord] = []
        out.reserveCapacity(argv.count)
        var u = 0
        for (k, text) in argv.enumerated() {
            let unknownHere = u < unknown.count && unknown[u] == k
            if unknownHere { u += 1 }
            out.append(ShellWord(text: text, isKnown: !unknownHere))
        }
        return out
    }
}

/// A command's argv after brace expansion, with the indices of its unknown words.
public struct ExpandedArgv: Sendable, Equatable {
    public var argv: [String]
    public var unknown: [Int]
}

/// A pipeline of two or more stages; each stage lists the indices of the commands written in it.
public struct ShellPipeline: Sendable, Equatable {
    public var stages: [[Int]]
}

/// Why a text could not be parsed as shell, and where.
public struct ShellParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words.
    public var message: String
    /// Byte offset where the problem was found.
    public var offset: Int

    public var description: String { "shell syntax error at byte \(offset): \(message)" }
}

/// The result of parsing a text as shell: every simple command it contains, its pipelines, and an error if the
/// parse stopped early (the commands before the error are kept).
public struct ShellScript: Sendable, Equatable {
    /// Every simple command, including those inside substitutions, compound commands and function bodies.
    public var commands: [SimpleCommand] = []
    /// Pipelines of two or more stages, plus `cmd <(producer)` / `cmd "$(producer)"` feeds as two-stage pipelines.
    public var pipelines: [ShellPipeline] = []
    /// Set when the text is not valid shell or exceeds the parser's bounds.
    public var error: ShellParseError?

    public init() {}

    /// Parses `text` as a POSIX sh / bash script.
    ///
    /// Never traps and never runs longer than linear-ish time in the input: nesting depth and input length are
    /// bounded (`ShellParser.maxDepth`, `ShellParser.maxLength`), and an error is reported instead.
    public static func parse(_ text: String) -> ShellScript {
        var copy = text
        return copy.withUTF8 { ShellParser.parse($0) }
    }

    /// Parses raw bytes as a POSIX sh / bash script.
    public static func parse(bytes: [UInt8]) -> ShellScript {
        bytes.withUnsafeBufferPointer { ShellParser.parse($0) }
    }
}
