/// What the kernel can decide alone for one executable, compiled from a policy.
public enum ProgramVerdict: Sendable, Equatable {
    /// No rule could ever act on it: run with no hold and no user-space round trip.
    case pass
    /// Its arguments, cwd, parent or payload decide: hold it (SIGSTOP) for user space.
    case hold
    /// The first rule that could match it kills it whatever its arguments: SIGKILL at exec.
    case kill
}

extension Policy {
    /// Program names (basenames) whose identity matters: those that rules able to act name, and every shell
    /// and wrapper (their payload may be acted on). A copy or link of one of them is that program.
    public var namesOfInterest: Set<String> {
        let acting = rules.filter { $0.action != .allow }
        if acting.isEmpty && unknownCommand == .allow && unparsable == .allow && defaultAction == .allow { return [] }
        var names = Wrappers.names
        for rule in acting { names.formUnion(rule.match.commandNames) }
        // A move into a tree where deletes are allowed is judged as the delete it enables.
        if judgesMoves { names.insert("mv") }
        return names
    }

    /// Full paths that rules able to act name (`command: /usr/bin/foo`).
    public var pathsOfInterest: Set<String> {
        Set(rules.filter { $0.action != .allow }.flatMap(\.match.commandPaths))
    }

    /// The kernel's verdict for the program at `path`, known as `identities` too (a renamed copy's real names).
    ///
    /// `kill` only when the first rule that could match the program at all kills it and says nothing but
    /// `command`, so no argument, path, parent or user could change the outcome.
    public func programVerdict(path: String, identities: [String] = []) -> ProgramVerdict {
        let couldAct = couldActOn(path: path) || identities.contains { couldActOn(path: "/" + $0) }
        guard couldAct else { return .pass }
        if defaultAction >= .stop { return .hold }
        let names = Set([Paths.basename(path)] + identities)
        for rule in rules {
            let m = rule.match
            let byName =
                !m.hasCommand
                || m.commandNames.contains(where: names.contains)
                || m.commandPaths.contains(path)
                || m.commandGlobs.contains { g in names.contains { g.matches($0) } || g.matches(path) }
            guard byName else { continue }
            let commandOnly =
                m.hasCommand && m.args.isEmpty && m.flags.isEmpty && m.cmdline.isEmpty
                && m.regexes.isEmpty && !m.hasPaths && m.pipeline.isEmpty && m.parent.isEmpty && !m.hasUser
                && !m.hasHosts
            return commandOnly && rule.action == .kill ? .kill : .hold
        }
        return .hold
    }
}

extension Policy {
    /// What lets an exec of a held program pass in the kernel: `words`, one of which is an argv word (after argv[0])
    /// of every exec a rule could stop or kill, and `names`, the basenames it must be exec'd by for that to hold
    /// (a link named `rm` to it meets rm's rules); nil when every exec of it must be held.
    ///
    /// Sound by construction: each rule able to stop or kill the program (by any of its names, real path or
    /// globs; a rule naming no command counts) must have a literal `args` word, which the evaluator matches only
    /// against an equal argv word (no glob, no `/`, so no path form of the word). The words are then needed for
    /// any such rule to match; an allow rule before them only lets more through. A wrapper's payload, a move judged
    /// as a delete and a default that stops keep every hold; git wraps only with `-c` in its argv, so `-c` is a
    /// word. What could rewrite the argv (a tracer, a preload, an argv or name the kernel cut) keeps the hold in
    /// the kernel.
    public func holdWords(path: String, identities: [String] = []) -> (words: [String], names: [String])? {
        guard programVerdict(path: path, identities: identities) == .hold, defaultAction < .stop else { return nil }
        let real = Paths.realPath(path) ?? path
        var names = [Paths.basename(path)]
        for n in [Paths.basename(real)] + identities where !names.contains(n) { names.append(n) }
        var words: [String] = []
        for n in names where Wrappers.wraps(n) || ProgramRunners.isRunner(n) {
            guard n == "git" else { return nil }
            words.append("-c")
        }
        if names.contains("mv") && judgesMoves { return nil }
        for rule in rules where rule.action >= .stop {
            let m = rule.match
            // Judged on a shell's text (and its pipeline's commands), never at one program's exec.
            guard m.pipeline.isEmpty else { continue }
            let byName =
                !m.hasCommand
                || m.commandMatches(names: names, path: path, filename: real)
            guard byName else { continue }
            let literal = m.args.lazy.compactMap { g -> String? in
                guard !g.namesPaths, case .literal(let bytes) = g.shape else { return nil }
                let word = String(decoding: bytes, as: UTF8.self)
                return Array(word.utf8) == bytes ? word : nil
            }.first
            guard let literal, !literal.isEmpty else { return nil }
            if !words.contains(literal) { words.append(literal) }
        }
        return (words, names)
    }
}

/// Programs that run another program without exec'ing it (the dynamic loader, valgrind, qemu-user: `Runners`),
/// for the live guard to know by identity: it holds their execs, and knows their renamed copies by content.
public enum ProgramRunners {
    /// Where they live outside PATH.
    public static var directories: [String] { Runners.directories }

    /// Whether a file of this name (a basename) is one.
    public static func isRunner(_ name: String) -> Bool { Runners.kind(of: name) != nil }

    /// Whether a runner known by one of these names reads options from its environment (qemu-user).
    public static func readsEnvironment(_ names: [String]) -> Bool {
        names.contains { Runners.kind(of: $0) == .qemu }
    }

    /// argv of a runner known by `names` with the options its environment gives (`QEMU_ARGV0=rm` is `-0 rm`)
    /// put before its own, as it reads them.
    public static func argv(_ argv: [String], names: [String], environ: [String]) -> [String] {
        guard let kind = names.lazy.compactMap({ Runners.kind(of: $0) }).first, !argv.isEmpty else { return argv }
        let extra = Runners.environmentArguments(kind, environ: environ)
        return extra.isEmpty ? argv : [argv[0]] + extra + argv.dropFirst()
    }
}
