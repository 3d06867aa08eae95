/// What one program is, written once: how it reads its options (`OptionSyntax`), and what it does beyond its own
/// work: runs a command given in its arguments (`Wrapping`), is a shell, downloads files (`Download`), names
/// network hosts (`Hosting`), or acts below the directories it is given (`operandsBelow`). Flag matching, wrapper
/// unwrapping, host and path extraction and the display of events all read this one entry, through the one
/// argument walker (`ParsedArgs`).
struct Program: Sendable {
    var syntax: OptionSyntax
    /// What it runs, when it runs a command given in its arguments (wrappers, shells, runners).
    var wraps: Wrapping?
    /// What it writes from the network, when it downloads (curl, wget).
    var download: Download?
    /// Where it names the network hosts it talks to (`HostNames`).
    var hosts: Hosting?
    /// Options (named as `ParsedOption` names them) with which an operand stands for what lies below it, for
    /// the `paths` key (`PathOperand`): `find DIR -delete` deletes below DIR.
    var operandsBelow: [String] = []
    /// The files it reads or sends that its options name (`curl -T FILE`), judged by `paths` as operands are.
    var files: FileOptions?

    init(
        _ syntax: OptionSyntax, wraps: Wrapping? = nil, download: Download? = nil, hosts: Hosting? = nil,
        operandsBelow: [String] = [], files: FileOptions? = nil
    ) {
        self.syntax = syntax
        self.wraps = wraps
        self.download = download
        self.hosts = hosts
        self.operandsBelow = operandsBelow
        self.files = files
    }

    /// Whether it is a shell (`sh -c TEXT` runs TEXT; without `-c` it reads its script from standard input).
    var isShell: Bool {
        if case .shell? = wraps?.runs { return true }
        return false
    }
}

/// The options whose value names a file the program reads or uploads (`PathOperand.optionFiles`), named as
/// `ParsedOption` names them.
struct FileOptions: Sendable {
    /// The value is the file (`curl -T FILE`, `wget --post-file FILE`).
    var file: [String] = []
    /// The value names the file after a leading `@` (`curl -d @FILE`), or after `=@` / `=<` (`curl -F f=@FILE`):
    /// a value without one is data, not a file.
    var at: [String] = []
}

/// The files a downloader writes (`Evaluator.downloadedFiles`).
struct Download: Sendable {
    /// The options whose value names the file written (`curl -o F`, `wget -O F`); a long one is also read when
    /// abbreviated to three letters or more.
    var output: [String]
    /// The options that save under the URL's last path segment (`curl -O`).
    var remoteName: [String] = []
    /// It saves under the URL's last path segment unless told otherwise (wget).
    var remoteNameByDefault = false
}

/// The registry of programs (`Program`), by name: the commands of ProgramOptions.swift, the wrappers and shells
/// of WrapperTable.swift, the network clients of NetworkPrograms.swift, the downloaders here, and the runners
/// (`Runners`) known by the shape of their names.
enum Programs {
    static let table: [String: Program] = {
        var t: [String: Program] = [:]
        for (name, syntax) in commands { t[name] = Program(syntax) }
        for (name, program) in [wrappers, network, downloaders].joined() {
            precondition(t[name] == nil, "\(name) is in two program tables")
            t[name] = program
        }
        return t
    }()

    /// The program `name` (a basename) is: its entry, else a runner's, else the entry of the name without a
    /// version (`python3.12` is `python`, `mkfs.ext4` is `mkfs`); nil for a program the registry does not know.
    static func lookup(_ name: String) -> Program? {
        if let p = table[name] { return p }
        if let r = Runners.kind(of: name) { return Program(r.syntax, wraps: Wrapping(runs: .runner(r))) }
        var trimmed = Substring(name)
        if let dot = trimmed.firstIndex(of: ".") { trimmed = trimmed[..<dot] }
        while let last = trimmed.last, last.isNumber { trimmed = trimmed.dropLast() }
        if trimmed.count != name.count, let p = table[String(trimmed)] { return p }
        return nil
    }

    /// Every program name that runs a command given in its arguments (runners aside: `Runners.kind`).
    static let wrapperNames: Set<String> = Set(table.filter { $0.value.wraps != nil }.keys)

    /// Every shell name.
    static let shellNames: Set<String> = Set(table.filter { $0.value.isShell }.keys)

    static let downloaders: [String: Program] = [
        "curl": Program(
            OptionSyntax(
                short: "AbcCdDeEFHKmoPQrTuUwxXyYz",
                long: [
                    "data", "data-binary", "data-raw", "data-urlencode", "data-ascii", "form", "form-string",
                    "header", "output", "upload-file", "user", "request", "url", "cookie", "cookie-jar", "referer",
                    "user-agent", "proxy", "max-time", "connect-timeout", "write-out", "config", "json", "retry",
                    "cert", "key", "cacert", "output-dir", "resolve", "connect-to", "dump-header", "range",
                    "interface", "preproxy",
                ],
                // --data-ascii is curl's alias of -d.
                implications: [Implication(trigger: .long("data-ascii"), implies: .named("d", "data"))]),
            download: Download(output: ["o", "output"], remoteName: ["O", "remote-name", "remote-name-all"]),
            hosts: Hosting(.urls, options: ["x", "proxy", "preproxy", "url"]),
            files: FileOptions(
                file: ["T", "upload-file"],
                at: ["d", "data", "data-binary", "data-ascii", "data-urlencode", "F", "form", "json"])),
        "wget": Program(
            OptionSyntax(
                short: "OoaPtTUeQlADRIXiBw",
                long: [
                    "output-document", "output-file", "append-output", "directory-prefix", "tries", "timeout",
                    "user-agent", "execute", "post-data", "post-file", "body-data", "body-file", "method", "header",
                    "input-file", "base", "wait", "user", "password", "accept", "reject", "domains", "level",
                ]),
            download: Download(output: ["O", "output-document"], remoteNameByDefault: true), hosts: Hosting(.urls),
            files: FileOptions(file: ["post-file", "body-file"])),
    ]
}
