/// The aliases a judged text defines (`alias r='rm -rf'`), expanded where the shell expands them: in a command
/// read after the line that defined the alias ran. A shell reads and parses a whole line (a whole compound
/// command) before it runs any of it, so `alias r='rm -rf'; r /x` on one line runs a command named `r`, and the
/// same two commands on two lines run `rm -rf /x`. dash and busybox sh expand aliases in scripts; bash does with
/// `shopt -s expand_aliases`, which Claude Code's shell snapshot sets; zsh reads a `-c` text whole. Expanding
/// wherever some shell would is the safe side: a command is then judged as what it may run.
struct ShellAliases {
    private var defined: [(name: String, value: String, offset: Int)] = []

    var isEmpty: Bool { defined.isEmpty }

    /// Deepest chain of aliases expanded in one command (`a` standing for `b` standing for `rm`).
    static let maxDepth = 8

    enum Expansion {
        /// One simple command: the alias's words followed by the command's arguments.
        case words([String], [Int])
        /// Anything else (`alias x='cd /; rm -rf'`): the shell text that runs.
        case text(String)
    }

    /// Notes what an `alias NAME=VALUE...` or `unalias NAME...` command at byte `offset` defines or removes.
    mutating func note(argv: [String], unknown: [Int], offset: Int) {
        for k in 1..<max(argv.count, 1) where !unknown.contains(k) {
            let w = argv[k]
            if argv[0] == "unalias" {
                if w == "-a" { defined.removeAll() } else { defined.removeAll { $0.name == w } }
                continue
            }
            guard let eq = w.firstIndex(of: "="), eq != w.startIndex else { continue }
            defined.append((String(w[..<eq]), String(w[w.index(after: eq)...]), offset))
        }
    }

    /// What the command at byte `offset` of `text` runs once its first word's alias is expanded (and the first
    /// word of that, to `maxDepth`, as the shell does, never one name twice); nil when none applies.
    func expand(argv: [String], unknown: [Int], offset: Int, in text: String) -> Expansion? {
        var argv = argv
        var unknown = unknown
        var seen: [String] = []
        while seen.count < ShellAliases.maxDepth, let name = argv.first, !unknown.contains(0), !seen.contains(name),
            let alias = defined.last(where: {
                $0.name == name && ShellAliases.lineEnds(in: text, from: $0.offset, to: offset)
            })
        {
            seen.append(name)
            let parsed = ShellScript.parse(alias.value)
            guard parsed.error == nil, parsed.commands.count == 1, let c = parsed.commands.first, !c.argv.isEmpty,
                c.redirections.isEmpty, c.assignments.isEmpty
            else {
                // The alias's text, then the command's arguments as written (unknown words by their source).
                var t = alias.value
                for k in 1..<max(argv.count, 1) { t += " " + (unknown.contains(k) ? argv[k] : shellQuote(argv[k])) }
                return .text(t)
            }
            let words = c.expanded?.argv ?? c.argv
            let wordsUnknown = c.expanded?.unknown ?? c.unknown
            unknown = wordsUnknown + unknown.filter { $0 > 0 }.map { $0 - 1 + words.count }
            argv = words + argv.dropFirst()
        }
        return seen.isEmpty ? nil : .words(argv, unknown)
    }

    /// Whether a line ends between the bytes `from` and `to` of `text`.
    private static func lineEnds(in text: String, from: Int, to: Int) -> Bool {
        guard from < to else { return false }
        let u = text.utf8
        guard let a = u.index(u.startIndex, offsetBy: from, limitedBy: u.endIndex),
            let b = u.index(u.startIndex, offsetBy: to, limitedBy: u.endIndex)
        else { return false }
        return u[a..<b].contains(UInt8(ascii: "\n"))
    }
}
