extension Evaluator {
    /// Facts about one command (the `ExecContext` it is computed from is passed alongside, borrowed, so that a
    /// command's context is never copied to be judged), computed once and lazily.
    struct Facts {
        var names: [String]
        private var _parsed: ParsedArgs?
        private var _cmdline: String?
        private var _paths: [String]??
        private var _resolvedArgs: [String?]?
        /// The words `operandPaths` made its paths from (`~` expanded, not normalised), in the same order.
        private(set) var operandWords: [String] = []

        /// Each argv word (or the value of a `name=value` word) that names a path, made absolute against the
        /// working directory and normalised, when that differs from the word as written; nil elsewhere.
        mutating func resolvedArgs(_ ctx: borrowing ExecContext) -> [String?] {
            if let r = _resolvedArgs { return r }
            var out = [String?](repeating: nil, count: ctx.argv.count)
            let cwd = ctx.cwdUnknown ? nil : (ctx.cwd ?? ctx.workspace)
            for k in 1..<max(ctx.argv.count, 1) where !ctx.unknownWords.contains(k) {
                out[k] = Facts.resolvedPath(ctx.argv[k], cwd: cwd)
            }
            _resolvedArgs = out
            return out
        }

        /// `w` (or the value of `name=value`) as an absolute normal path, when it names one and that differs
        /// from `w`: a value of `name=value`, or a word with a `/` or a leading `.` or `~`.
        static func resolvedPath(_ w: String, cwd: String?) -> String? {
            let u = w.utf8
            guard let first = u.first, !HostNames.isURL(w) else { return nil }
            var key = Substring("")
            var value = Substring(w)
            if let eq = u.firstIndex(of: 0x3D), eq != u.startIndex,
                u[..<eq].allSatisfy({ c in
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
                        || c == 0x2D || c == 0x2E
                })
            {
                key = w[...eq]
                value = w[w.index(after: eq)...]
            } else if first == 0x2D || !(first == 0x2E || first == 0x7E || u.contains(0x2F)) {
                return nil  // an option, or a word that does not look like a path
            }
            if value.isEmpty { return nil }
            let v = value.hasPrefix("~") ? Paths.tildeExpanded(String(value)) : String(value)
            let path: String
            if v.hasPrefix("/") {
                path = Paths.normalize(v)
            } else if let cwd {
                path = Paths.absolute(v, cwd: cwd)
            } else {
                return nil
            }
            let resolved = key.isEmpty ? path : String(key) + path
            return resolved == w ? nil : resolved
        }

        init(_ ctx: borrowing ExecContext) {
            if let cached = ctx.resolvedNames {
                names = cached
            } else {
                let base = Paths.basename(ctx.path)
                names = [base]
                if let f = ctx.filename {
                    let fb = Paths.basename(f)
                    if fb != base { names.append(fb) }
                }
            }
            if !ctx.identities.isEmpty {
                for i in ctx.identities where !names.contains(i) { names.append(i) }
            }
        }

        mutating func parsed(_ ctx: borrowing ExecContext) -> ParsedArgs {
            if let p = _parsed { return p }
            let p = ParsedArgs(argv: ctx.argv, syntax: syntax(ctx), unknown: ctx.unknownWords)
            _parsed = p
            return p
        }

        /// The option syntax of the first of `names` that has one; remembered per command name in a run.
        private func syntax(_ ctx: borrowing ExecContext) -> OptionSyntax {
            if let info = ctx.nameInfo, ctx.identities.isEmpty {
                if let s = info.syntax { return s }
                let s = Facts.syntax(of: names)
                info.syntax = s
                return s
            }
            return Facts.syntax(of: names)
        }

        private static func syntax(of names: [String]) -> OptionSyntax {
            var syntax = OptionSyntax.plain
            for n in names {
                let s = OptionSyntax.lookup(n)
                if !s.isPlain {
                    syntax = s
                    break
                }
            }
            return syntax
        }

        mutating func cmdline(_ ctx: borrowing ExecContext) -> String {
            if let c = _cmdline { return c }
            let c = ctx.argv.joined(separator: " ")
            _cmdline = c
            return c
        }

        /// Operands as absolute normalised paths; nil for an operand resolved against an unknown directory.
        mutating func operandPaths(_ ctx: borrowing ExecContext) -> [String]? {
            if let p = _paths { return p }
            let parsed = parsed(ctx)
            var out: [String] = []
            var unknownBase = false
            let cwd = ctx.cwd ?? ctx.workspace
            func add(_ word: String) {
                var w = word
                if w.hasPrefix("~") { w = Paths.tildeExpanded(w) }
                if w.hasPrefix("/") {
                    out.append(Paths.normalize(w))
                    operandWords.append(w)
                } else if let cwd, !ctx.cwdUnknown {
                    out.append(Paths.absolute(w, cwd: cwd))
                    operandWords.append(w)
                } else {
                    unknownBase = true
                }
            }
            let below = PathOperand.below(names: names, parsed: parsed)
            for i in parsed.operands {
                if let w = PathOperand.path(ctx.argv[i], below: below) { add(w) }
            }
            for f in PathOperand.optionFiles(names: names, argv: ctx.argv, unknown: ctx.unknownWords) { add(f) }
            // A file standard input is redirected from is read as if named (`cat < FILE`).
            for f in ctx.inputFiles { add(f) }
            for i in ctx.unknownWords {
                // `$HOME/x` and `${HOME}` are the user's home; other unknown words are left to the real exec.
                let w = ctx.argv[i]
                for prefix in ["$HOME", "${HOME}", "\"$HOME\"", "\"${HOME}\""] where w.hasPrefix(prefix) {
                    let rest = w.dropFirst(prefix.count)
                    if rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("\"/") {
                        out.append(Paths.normalize(Paths.home + "/" + rest.filter { $0 != "\"" }))
                        operandWords.append(out[out.count - 1])
                    }
                    break
                }
            }
            let result: [String]? = unknownBase && out.isEmpty ? nil : out
            _paths = .some(result)
            return result
        }
    }
}
