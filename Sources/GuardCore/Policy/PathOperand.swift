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

    /// The files the options of a command known by `names` name (its program's `files`): what it uploads or
    /// reads, judged by `paths` as its operands are (`curl -T ~/.ssh/id_rsa URL` names `~/.ssh/id_rsa`).
    static func optionFiles(names: [String], argv: [String], unknown: [Int]) -> [String] {
        guard let program = names.lazy.compactMap(Programs.lookup).first(where: { $0.files != nil }),
            let files = program.files
        else { return [] }
        var out: [String] = []
        let p = ParsedArgs(argv: argv, syntax: program.syntax, unknown: unknown, recording: true)
        for o in p.options {
            guard let v = o.valueIndex, !unknown.contains(v), let whole = o.value else { continue }
            var value = Substring(whole)
            if files.at.contains(o.name) {
                if value.hasPrefix("@") {
                    value = value.dropFirst()
                } else if let r = value.range(of: "=@") ?? value.range(of: "=<") {
                    value = value[r.upperBound...].prefix { $0 != ";" }
                } else {
                    continue
                }
            } else if !files.file.contains(o.name) {
                continue
            }
            if !value.isEmpty && value != "-" && value != "." { out.append(String(value)) }
        }
        return out
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
