import Foundation

/// Pipelines: what a producer prints into a shell (`echo TEXT | sh`), and the pipeline rules, whose stages
/// match the commands of a pipeline in order, a wrapper's payload standing for the wrapper.
extension Evaluator {
    /// What `echo` or `printf` prints: `echo [-neE] WORDS` (escapes with -e), `printf FORMAT [ARGS]` with `%s`
    /// directives and escapes; unknown (with its source text) when a word is unknown. Nil for other programs.
    static func printed(_ ctx: borrowing ExecContext) -> Stdin? {
        var argv = ctx.argv
        // `command echo …`, `builtin printf …`: the builtin itself prints.
        while let first = argv.first, ["command", "builtin"].contains(Paths.basename(first)), argv.count > 1,
            !argv[1].hasPrefix("-"), !ctx.unknownWords.contains(1)
        {
            argv.removeFirst()
        }
        guard let first = argv.first else { return nil }
        let name = Paths.basename(first)
        guard name == "echo" || name == "printf" else { return nil }
        if !ctx.unknownWords.isEmpty { return Stdin(text: argv.dropFirst().joined(separator: " "), unknown: true) }
        return printedText(argv, name).map { Stdin(text: $0) }
    }

    /// A stage that writes its standard input on unchanged: `tee [FILE…]`, `cat` with no operand (or `-`).
    static func passesInput(_ ctx: borrowing ExecContext) -> Bool {
        guard let first = ctx.argv.first, ctx.unknownWords.isEmpty else { return false }
        switch Paths.basename(first) {
        case "tee": return true
        case "cat": return ctx.argv.dropFirst().allSatisfy { $0 == "-" || ($0.hasPrefix("-") && $0 != "--") }
        default: return false
        }
    }

    static func printedText(_ argv: [String], _ name: String) -> String? {
        func unescape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
        }
        if name == "echo" {
            var k = 1
            var escapes = false
            while k < argv.count, argv[k].hasPrefix("-"), argv[k].count > 1,
                argv[k].dropFirst().allSatisfy({ $0 == "n" || $0 == "e" || $0 == "E" })
            {
                if argv[k].contains("e") { escapes = true }
                if argv[k].contains("E") { escapes = false }
                k += 1
            }
            let text = argv[min(k, argv.count)...].joined(separator: " ")
            return escapes ? unescape(text) : text
        }
        if name == "printf", argv.count >= 2 {
            var format = argv[1]
            var args = argv.dropFirst(2).makeIterator()
            while let r = format.range(of: "%s") { format.replaceSubrange(r, with: args.next() ?? "") }
            if format.contains("%") && !format.contains("%%") { return nil }
            return unescape(format.replacingOccurrences(of: "%%", with: "%"))
        }
        return nil
    }

    mutating func pipeline(_ pl: ShellPipeline, _ contexts: [ExecContext?]) -> Outcome {
        for r in policy.pipelineRules {
            let stages = policy.rules[r].match.pipeline
            var j = 0
            var hitCommands: [String] = []
            for stage in pl.stages where j < stages.count {
                for ci in stage {
                    guard let ctx = contexts[ci] else { continue }
                    if quickReject(stages[j], ctx) { continue }
                    if stageMatches(stages[j], ctx, depth: 0) {
                        hitCommands.append(shellJoin(ctx.argv))
                        j += 1
                        break
                    }
                }
            }
            if j == stages.count {
                return Outcome(action: policy.rules[r].action, rule: r, matched: hitCommands.joined(separator: " | "))
            }
        }
        return Outcome(action: .allow)
    }

    /// True when a stage with plain command names provably cannot match a non-wrapper command (cheap test).
    func quickReject(_ m: CompiledMatch, _ ctx: borrowing ExecContext) -> Bool {
        guard let info = ctx.nameInfo, !info.isWrapper, ctx.identities.isEmpty, m.hasCommand,
            m.commandGlobs.isEmpty, m.commandPaths.isEmpty
        else { return false }
        for n in info.resolved.names where m.commandNames.contains(n) { return false }
        return true
    }

    /// Whether a pipeline stage's command, or a program it wraps (`sudo sh`, `env bash`), matches.
    mutating func stageMatches(_ m: CompiledMatch, _ ctx: borrowing ExecContext, depth: Int) -> Bool {
        var f = Facts(ctx)
        if matches(m, ctx, &f) { return true }
        guard depth < Evaluator.maxDepth else { return false }
        for payload in Wrappers.unwrap(names: f.names, argv: ctx.argv, unknown: ctx.unknownWords) {
            var runs: [(argv: [String], unknown: [Int])] = []
            switch payload {
            case .exec(var e):
                // A runner's program is its operand, whatever argv[0] it is shown.
                if let program = e.program { e.argv[0] = program }
                runs = [(e.argv, e.unknown)]
            case .script(let text, _):
                // `eval bash`, `watch bash`, `sh -c 'curl x'`: the commands of the text fill the stage as well.
                runs = ShellScript.parse(text).commands.map {
                    ($0.expanded?.argv ?? $0.argv, $0.expanded?.unknown ?? $0.unknown)
                }
            case .unknown: continue
            }
            for (argv, unknown) in runs where !argv.isEmpty && !unknown.contains(0) {
                if stageMatches(m, argv: argv, unknown: unknown, in: ctx, depth: depth) { return true }
            }
        }
        return false
    }

    /// `stageMatches` for what a stage's command runs (`argv`), in that command's directory, user and workspace.
    mutating func stageMatches(
        _ m: CompiledMatch, argv: [String], unknown: [Int], in ctx: borrowing ExecContext, depth: Int
    ) -> Bool {
        let info = resolve(argv[0], cwd: ctx.cwd)
        var inner = ExecContext(
            argv: argv, path: info.resolved.real, filename: info.resolved.located, cwd: ctx.cwd, uid: ctx.uid,
            userName: ctx.userName, workspace: ctx.workspace)
        inner.unknownWords = unknown
        inner.resolvedNames = info.resolved.names
        inner.inputFiles = ctx.inputFiles
        return stageMatches(m, inner, depth: depth + 1)
    }
}
