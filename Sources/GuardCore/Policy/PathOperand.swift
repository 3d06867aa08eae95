/// What an operand word means to the `paths` key, beyond being a path resolved against the working directory.
enum PathOperand {
    /// Whether the operands of a command known by `names`, parsed as `parsed`, stand for what lies below them:
    /// its program's `operandsBelow` options (the registry's) are given.
    static func below(names: [String], parsed: ParsedArgs) -> Bool {
        for n in names {
            guard let options = Programs.lookup(n)?.operandsBelow, !options.isEmpty else { continue }
            return options.contains { parsed.hasLong($0, abbreviated: false) }
        }
        return false
    }

    /// The path `paths` judges for operand `word`, or nil when the word is no path; `below`: the command acts
    /// below its operands (`PathOperand.below`).
    ///
    /// A URL (`https://host/x`) is not a path. A start directory of `find ... -delete` is judged by what lies
    /// below it, `DIR/*`, as `rm -rf DIR/*` is: find deletes what its expression selects below DIR, and DIR
    /// itself only once it is empty — a delete the file rules judge (`find /tmp -name core -delete` is scratch
    /// work, like `rm -rf /tmp/x`; `find / -delete` is `/*`, outside every scratch place).
    @inline(__always)
    static func path(_ word: String, below: Bool) -> String? {
        if HostNames.isURL(word) { return nil }
        guard below else { return word }
        var dir = Substring(word)
        while dir.count > 1 && dir.hasSuffix("/") { dir = dir.dropLast() }
        return dir == "/" ? "/*" : dir + "/*"
    }
}
