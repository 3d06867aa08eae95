/// Links each exec of the guarded tree to the tool use that caused it: intent next to action.
///
/// A tool use with a shell command (the model's `Bash` call, an OpenAI shell tool) is *expected* when the
/// capture decodes it (or the PreToolUse hook announces it). The first exec whose command line runs that
/// command *runs* it; every process below that exec, at any depth and however it was started, *inherits* the
/// link. Claude Code runs a command as
/// `bash -c -l "source SNAPSHOT && eval 'CMD' \< /dev/null && pwd -P >| FILE"`: the `eval` arguments, unquoted
/// as the shell does and joined by spaces as `eval` does, without the `< /dev/null` it appends, are the command.
///
/// Pure: ancestry the exec records do not show (a forked subshell that never exec'd, processes that existed
/// before the guard) is asked of `parentOf` (the session reads /proc), once per process.
public struct ExecLinker {
    /// How an exec relates to a tool use.
    public enum Link: Sendable, Equatable {
        /// The exec runs the tool use's command.
        case runs(String)
        /// The process descends from (or re-execs) one that runs it.
        case inherits(String)

        public var id: String {
            switch self {
            case .runs(let id), .inherits(let id): return id
            }
        }
    }

    private struct Expected {
        var id: String
        var command: ToolCommand
        /// The process whose HTTPS traffic asked for it (nil: announced by the hook).
        var agent: Int32?
        var root: Int32
        var monotonicNs: UInt64
    }

    /// An exec that matched nothing when it happened, kept briefly for a tool use decoded just after it.
    private struct Recent {
        var pid: Int32
        var ppid: Int32
        var root: Int32
        var commands: [String]
        var argv: [String]
        var monotonicNs: UInt64
    }

    private var expected: [Expected] = []
    private var recent: [Recent] = []
    /// Processes linked, by pid.
    private var links: [Int32: String] = [:]
    /// Processes known to descend from no tool use.
    private var unlinked: Set<Int32> = []
    /// Processes that asked for tool uses: their execs are worth a look even when nothing is expected.
    private var agents: Set<Int32> = []

    /// A tool use not run within this time is forgotten (a human may take a while to approve it).
    public var expectTTLNs: UInt64 = 3600 * 1_000_000_000
    public static let maxExpected = 512
    /// How long an unmatched exec waits for its tool use.
    public static let recentWindowNs: UInt64 = 2_000_000_000
    static let maxRecent = 64
    static let maxDepth = 64

    public init() {}

    /// Tool uses still waiting for their exec.
    public var expectedCount: Int { expected.count }

    /// A tool use the model asked for. Only shell tools (with a command) are expected; returns the pid of an exec
    /// that already ran its command (decoded a moment after the exec), which is linked from now on.
    @discardableResult
    public mutating func expect(_ use: ToolUse, agent: Int32?, root: Int32 = 0, monotonicNs: UInt64) -> Int32? {
        guard let command = use.command, !use.id.isEmpty else { return nil }
        if let agent { agents.insert(agent) }
        recent.removeAll { monotonicNs &- $0.monotonicNs > Self.recentWindowNs && monotonicNs > $0.monotonicNs }
        if let k = recent.firstIndex(where: { r in
            (agent == nil || r.ppid == agent) && Self.matches(command, commands: r.commands, argv: r.argv)
        }) {
            let r = recent.remove(at: k)
            links[r.pid] = use.id
            unlinked.remove(r.pid)
            return r.pid
        }
        expected.removeAll { monotonicNs &- $0.monotonicNs > expectTTLNs && monotonicNs > $0.monotonicNs }
        if expected.count >= Self.maxExpected { expected.removeFirst() }
        expected.append(Expected(id: use.id, command: command, agent: agent, root: root, monotonicNs: monotonicNs))
        return nil
    }

    /// An exec of the tree: the tool use it runs or descends from, if any.
    public mutating func exec(
        pid: Int32, ppid: Int32, root: Int32 = 0, argv: [[UInt8]], monotonicNs: UInt64,
        parentOf: (Int32) -> Int32?
    ) -> Link? {
        // Command texts cost a shell parse: only for execs a tool use may be waiting for.
        let interesting = !expected.isEmpty || agents.contains(ppid)
        let words = interesting ? argv.map { String(decoding: $0, as: UTF8.self) } : []
        let commands = interesting ? Self.commandTexts(argv) : []
        if !expected.isEmpty, let k = pick(ppid: ppid, root: root, commands: commands, argv: words, parentOf: parentOf)
        {
            let id = expected.remove(at: k).id
            links[pid] = id
            unlinked.remove(pid)
            return .runs(id)
        }
        if let id = links[pid] { return .inherits(id) }
        if let id = resolve(ppid, parentOf: parentOf) {
            links[pid] = id
            return .inherits(id)
        }
        unlinked.insert(pid)
        if !commands.isEmpty && agents.contains(ppid) {
            if recent.count >= Self.maxRecent { recent.removeFirst() }
            recent.append(
                Recent(pid: pid, ppid: ppid, root: root, commands: commands, argv: words, monotonicNs: monotonicNs))
        }
        return nil
    }

    /// The tool use a process descends from (a file event's process may never have exec'd in the tree).
    public mutating func toolUse(of pid: Int32, parentOf: (Int32) -> Int32?) -> String? {
        resolve(pid, parentOf: parentOf)
    }

    /// A process exited: its pid may be reused.
    public mutating func exited(_ pid: Int32) {
        links.removeValue(forKey: pid)
        unlinked.remove(pid)
        agents.remove(pid)
        recent.removeAll { $0.pid == pid }
    }

    /// The expected tool use this exec runs: its command matches; the agent that asked is its parent, else an
    /// ancestor, else (the hook, or an agent not seen as an ancestor) any in the same tree, oldest first.
    private func pick(
        ppid: Int32, root: Int32, commands: [String], argv: [String], parentOf: (Int32) -> Int32?
    )
        -> Int?
    {
        let candidates = expected.indices.filter { Self.matches(expected[$0].command, commands: commands, argv: argv) }
        guard !candidates.isEmpty else { return nil }
        if let k = candidates.first(where: { expected[$0].agent == ppid }) { return k }
        var ancestors: [Int32] = []
        var p: Int32? = ppid
        while let q = p, q > 1, ancestors.count < Self.maxDepth {
            ancestors.append(q)
            p = parentOf(q)
        }
        if let k = candidates.first(where: { expected[$0].agent.map(ancestors.contains) ?? false }) { return k }
        return candidates.first { expected[$0].root == root || expected[$0].root == 0 || root == 0 }
    }

    /// The link of pid or of its nearest known ancestor; every process walked over is remembered.
    private mutating func resolve(_ pid: Int32, parentOf: (Int32) -> Int32?) -> String? {
        var walked: [Int32] = []
        var p: Int32? = pid
        var found: String? = nil
        while let q = p, q > 1, walked.count < Self.maxDepth {
            if let id = links[q] {
                found = id
                break
            }
            if unlinked.contains(q) || links.isEmpty { break }
            walked.append(q)
            p = parentOf(q)
        }
        for q in walked {
            if let id = found { links[q] = id } else { unlinked.insert(q) }
        }
        return found
    }

    /// Whether an exec (its command texts, its argv) runs this command.
    static func matches(_ command: ToolCommand, commands: [String], argv: [String]) -> Bool {
        switch command {
        case .text(let c):
            let want = trimmed(c)
            return !want.isEmpty && commands.contains { trimmed($0) == want }
        case .argv(let words):
            guard words.count == argv.count, let w0 = words.first, let a0 = argv.first else { return false }
            return basename(w0) == basename(a0) && words.dropFirst().elementsEqual(argv.dropFirst())
        }
    }

    /// The commands an exec may be running for a tool use: the `eval` text of Claude Code's wrapper, and the
    /// whole payload of `sh -c PAYLOAD`.
    static func commandTexts(_ argv: [[UInt8]]) -> [String] {
        guard let first = argv.first else { return [] }
        let name = Paths.basename(String(decoding: first, as: UTF8.self))
        guard Wrappers.shells.contains(name) else { return [] }
        // The evaluator's own reading of a shell's options (`bash -c -l TEXT`: TEXT is the first operand).
        let words = argv.map { String(decoding: $0, as: UTF8.self) }
        guard let c = Wrappers.shellCommandIndex(name, argv: words) else { return [] }
        let payload = words[c]
        var out: [String] = []
        let script = ShellScript.parse(payload)
        for cmd in script.commands where cmd.argv.first == "eval" && cmd.argv.count > 1 && !cmd.inSubstitution {
            var text = cmd.argv.dropFirst().joined(separator: " ")
            for suffix in [" < /dev/null", " </dev/null"] where text.hasSuffix(suffix) {
                text.removeLast(suffix.count)
            }
            out.append(text)
        }
        out.append(payload)
        return out
    }

    private static func trimmed(_ s: String) -> Substring {
        let ws: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        let a = s.drop(while: ws)
        return a.dropLast(a.reversed().prefix(while: ws).count)
    }

    private static func basename(_ s: String) -> Substring {
        s.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(s)
    }
}
