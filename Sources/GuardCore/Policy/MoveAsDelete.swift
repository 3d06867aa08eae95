extension Policy {
    /// Some allow rule names paths (a scratch tree where deletes are allowed): moving something into it
    /// enables a delete the policy refuses elsewhere, so `mv` is judged as that delete (`movedDelete`).
    var judgesMoves: Bool { rules.contains { $0.action == .allow && $0.match.hasPaths } }
}

extension Evaluator {
    /// `mv SRC... DEST` judged as the delete it enables: when deleting what was moved at its new place is
    /// allowed (it lands in a scratch tree) but deleting it where it is would not be, the move gets the action
    /// of that delete (`rm -rf SRC`); `mv VICTIM scratch/ && rm -rf scratch/VICTIM` is `rm -rf VICTIM`.
    /// Moves whose destination deletes are judged like their source's (within the workspace, within scratch,
    /// out of scratch) are what they were.
    mutating func movedDelete(_ ctx: borrowing ExecContext, _ f: inout Facts, depth: Int) -> Outcome {
        let argv = ctx.argv
        var sources = f.parsed(ctx).operands.map { argv[$0] }
        let (target, noTargetDirectory) = Evaluator.moveTarget(argv)
        guard let dest = target ?? (sources.count >= 2 ? sources.removeLast() : nil), !sources.isEmpty else {
            return Outcome(action: .allow)
        }
        var result = Outcome(action: .allow)
        for src in sources {
            var trimmed = Substring(src)
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            let base = Paths.basename(String(trimmed))
            // Into DEST when it is a directory, else as DEST: either place is where the delete would happen.
            let places =
                noTargetDirectory ? [dest] : target != nil ? [dest + "/" + base] : [dest + "/" + base, dest]
            guard places.contains(where: { delete($0, ctx, depth: depth).action == .allow }) else { continue }
            let here = delete(src, ctx, depth: depth)
            guard here.action != .allow else { continue }
            var o = here
            o.matchedArgv = nil
            o.matchedText =
                shellJoin(argv) + " (moving into a tree where deletes are allowed: the delete it enables, "
                + shellJoin(["rm", "-rf", "--", src]) + ")"
            result.merge(o)
        }
        return result
    }

    /// What `rm -rf -- PATH` would get, run like `ctx`.
    private mutating func delete(_ path: String, _ ctx: borrowing ExecContext, depth: Int) -> Outcome {
        let info = resolve("rm", cwd: ctx.cwd)
        var rm = ExecContext(
            argv: ["rm", "-rf", "--", path], path: info.resolved.real, filename: info.resolved.located, cwd: ctx.cwd,
            uid: ctx.uid, userName: ctx.userName, parent: ctx.parent, workspace: ctx.workspace)
        rm.cwdUnknown = ctx.cwdUnknown
        rm.resolvedNames = info.resolved.names
        var facts = Facts(rm)
        return direct(rm, &facts)
    }

    /// mv's `-t DIR` / `--target-directory=DIR` (any unambiguous prefix), and whether `-T` says DEST is no
    /// directory to move into, as the one argument walker reads mv's options.
    static func moveTarget(_ argv: [String]) -> (String?, Bool) {
        let p = ParsedArgs(argv: argv, syntax: OptionSyntax.lookup("mv"), unknown: [], recording: true)
        return (p.last(["t", "target-directory"])?.value, p.has(["T", "no-target-directory"]))
    }
}
