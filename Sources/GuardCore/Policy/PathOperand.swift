/// What an operand word means to the `paths` key, beyond being a path resolved against the working directory.
enum PathOperand {
    /// The path `paths` judges for operand `word` of a command known by `names`, or nil when the word is no path.
    ///
    /// A URL (`https://host/x`) is not a path. A start directory of `find ... -delete` is judged by what lies
    /// below it, `DIR/*`, as `rm -rf DIR/*` is: find deletes what its expression selects below DIR, and DIR
    /// itself only once it is empty — a delete the file rules judge (`find /tmp -name core -delete` is scratch
    /// work, like `rm -rf /tmp/x`; `find / -delete` is `/*`, outside every scratch place).
    @inline(__always)
    static func path(_ word: String, names: [String], argv: [String]) -> String? {
        if HostNames.isURL(word) { return nil }
        guard names.first == "find", argv.contains("-delete") else { return word }
        var dir = Substring(word)
        while dir.count > 1 && dir.hasSuffix("/") { dir = dir.dropLast() }
        return dir == "/" ? "/*" : dir + "/*"
    }
}
