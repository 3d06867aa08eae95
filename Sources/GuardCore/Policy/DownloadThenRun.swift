import Foundation

extension Evaluator {
    /// `curl -o F URL && sh F`, `wget URL; chmod +x F; ./F`: a file a download writes, run later in the same text,
    /// makes a two-stage pipeline (the download, then what runs the file), judged by the pipeline rules as
    /// `curl URL | sh` is. A file run directly (`./F`) is run by an interpreter: a stage `sh F` is added for it.
    static func fileFeeds(_ contexts: inout [ExecContext?]) -> [ShellPipeline] {
        var written: [(index: Int, path: String)] = []
        var out: [ShellPipeline] = []
        for j in contexts.indices {
            guard let ctx = contexts[j] else { continue }
            if !written.isEmpty, let run = fileRun(ctx), let w = written.last(where: { $0.path == run.path }) {
                var stage = j
                if run.direct {
                    var sh = ExecContext(
                        argv: ["sh", run.path], path: "/bin/sh", cwd: ctx.cwd, workspace: ctx.workspace)
                    sh.resolvedNames = ["sh"]
                    contexts.append(sh)
                    stage = contexts.count - 1
                }
                out.append(ShellPipeline(stages: [[w.index], [stage]]))
            }
            for path in downloadedFiles(ctx) { written.append((j, path)) }
        }
        return out
    }

    /// The files a downloader (`Program.download`: curl, wget) writes, absolute: `curl -o F`, `curl -O URL`,
    /// `wget -O F`, `wget URL`; its options read by the one argument walker.
    static func downloadedFiles(_ ctx: borrowing ExecContext) -> [String] {
        let argv = ctx.argv
        guard let first = argv.first, !ctx.cwdUnknown, let cwd = ctx.cwd ?? ctx.workspace,
            let program = Programs.lookup(Paths.basename(first)), let download = program.download
        else { return [] }
        let p = ParsedArgs(argv: argv, syntax: program.syntax, unknown: ctx.unknownWords, recording: true)
        var files: [String] = []
        var remoteName = download.remoteNameByDefault
        for o in p.options {
            if let v = o.valueIndex, ctx.unknownWords.contains(v) { continue }
            if Evaluator.names(o, download.output) {
                // An output option abbreviated (`--out F`) is not in the program's partial table: its value is
                // the next word all the same.
                var value = o.value
                if value == nil, o.name.utf8.count > 1, o.index + 1 < argv.count { value = argv[o.index + 1] }
                if let value, value != "-", !value.isEmpty { files.append(value) }
                remoteName = false
            } else if Evaluator.names(o, download.remoteName) {
                remoteName = true
            }
        }
        if remoteName {
            for k in p.operands where !ctx.unknownWords.contains(k) && argv[k].contains("://") {
                let u = argv[k]
                var path = u.split(separator: "?", maxSplits: 1).first.map(String.init) ?? u
                path = String(path.split(separator: "#", maxSplits: 1).first ?? Substring(path))
                let base = Paths.basename(path)
                if !base.isEmpty && !path.hasSuffix("/") && path.components(separatedBy: "/").count > 3 {
                    files.append(base)
                }
            }
        }
        return files.map { Paths.absolute($0, cwd: cwd) }
    }

    /// Whether the option `o` is one of `names`: a short one by its letter, a long one also when abbreviated to
    /// three letters or more.
    private static func names(_ o: ParsedOption, _ names: [String]) -> Bool {
        for n in names where n == o.name { return true }
        guard o.name.utf8.count >= 3 else { return false }
        for n in names where n.utf8.count > 1 && n.hasPrefix(o.name) { return true }
        return false
    }

    static let interpreters: Set<String> = [
        "sh", "bash", "dash", "zsh", "ksh", "fish", "perl", "ruby", "node", "php", "source", ".",
    ]

    /// The file a command runs as a program or script: `./F` or `/path/F` itself (`direct`), or the first operand
    /// of an interpreter (`sh F`, `bash -x F`, `python3 F`), or a file sourced (`source F`, `. F`: `direct` too,
    /// as the shell itself runs it); nil otherwise.
    static func fileRun(_ ctx: borrowing ExecContext) -> (path: String, direct: Bool)? {
        fileRun(
            argv: ctx.argv, unknown: ctx.unknownWords, cwd: ctx.cwdUnknown ? nil : ctx.cwd ?? ctx.workspace, depth: 0)
    }

    /// `fileRun` of an argv, and of what it wraps (`timeout 5 bash F`, `env sh F`, `nohup ./F`).
    static func fileRun(
        argv: [String], unknown: [Int], cwd: String?, depth: Int
    ) -> (path: String, direct: Bool)? {
        if depth < 6, let first = argv.first, !unknown.contains(0), case let name = Paths.basename(first),
            Wrappers.wraps(name), name != "git"
        {
            for payload in Wrappers.unwrap(names: [name], argv: argv, unknown: unknown) {
                guard case .exec(var e) = payload, !e.argv.isEmpty else { continue }
                if let program = e.program { e.argv[0] = program }
                var dir = cwd
                if let c = e.chdir {
                    dir = c.hasPrefix("/") ? Paths.normalize(c) : dir.map { Paths.absolute(c, cwd: $0) }
                }
                if let run = fileRun(argv: e.argv, unknown: e.unknown, cwd: dir, depth: depth + 1) { return run }
            }
        }
        return fileRunDirect(argv: argv, unknown: unknown, cwd: cwd)
    }

    static func fileRunDirect(argv: [String], unknown: [Int], cwd: String?) -> (path: String, direct: Bool)? {
        guard let first = argv.first, let cwd else { return nil }
        if first.contains("/") { return (Paths.absolute(first, cwd: cwd), true) }
        let name = Paths.basename(first)
        guard Evaluator.interpreters.contains(name) || name.hasPrefix("python") else { return nil }
        if let shell = Programs.lookup(name), shell.isShell {
            // A shell runs its first operand as a script file, unless `-c` makes it text or `-s` standard input:
            // its options read as it reads them.
            let p = ParsedArgs(argv: argv, syntax: shell.syntax, unknown: unknown)
            let i = p.optionsEnd
            guard !p.hasShort(UInt8(ascii: "c")), !p.hasShort(UInt8(ascii: "s")), i < argv.count, !unknown.contains(i)
            else { return nil }
            return (Paths.absolute(argv[i], cwd: cwd), false)
        }
        for k in 1..<max(argv.count, 1) {
            let w = argv[k]
            if unknown.contains(k) { return nil }
            if w.hasPrefix("-") {
                // `sh -c TEXT` runs text, not a file; `python -m MOD` a module.
                if w == "-c" || w == "-m" { return nil }
                continue
            }
            // `source F` and `. F` run it in the shell itself: judged as `sh F` too.
            return (Paths.absolute(w, cwd: cwd), name == "source" || name == ".")
        }
        return nil
    }
}
