/// Where a program names the network hosts it talks to (`HostNames.named`): how it reads its operands, and the
/// options whose value is a host or a URL, named as `ParsedOption` names them (`J`, `registry`).
struct Hosting: Sendable {
    var kind: HostNames.Kind
    var options: [String]

    init(_ kind: HostNames.Kind, options: [String] = []) {
        self.kind = kind
        self.options = options
    }
}

/// The network clients (curl and wget are downloaders, in Programs.swift; git is in WrapperTable.swift): each
/// one's option syntax and where it names hosts. A host option's value is read by the one argument walker, so it
/// must be an option that takes a value in the program's syntax.
extension Programs {
    static let network: [String: Program] = [
        "aria2c": Program(.plain, hosts: Hosting(.urls)),
        "http": Program(.plain, hosts: Hosting(.urls)),
        "https": Program(.plain, hosts: Hosting(.urls)),
        "ssh": Program(OptionSyntax(short: "bcDEeFIiJLlmOopQRSWw"), hosts: Hosting(.destination, options: ["J"])),
        "mosh": Program(.plain, hosts: Hosting(.destination)),
        "nc": Program(.plain, hosts: Hosting(.destination)),
        "ncat": Program(.plain, hosts: Hosting(.destination)),
        "telnet": Program(.plain, hosts: Hosting(.destination)),
        "scp": Program(OptionSyntax(short: "cFiJloPS"), hosts: Hosting(.remotePaths, options: ["J"])),
        // sftp's getopt string (OpenSSH 9.2): the options that take a value.
        "sftp": Program(OptionSyntax(short: "BbcDFiJlPRSsX"), hosts: Hosting(.remotePaths, options: ["J"])),
        "rsync": Program(
            OptionSyntax(short: "eBfT", long: ["rsh", "exclude", "include", "filter", "rsync-path", "files-from"]),
            hosts: Hosting(.remotePaths)),
        "pip": Program(
            OptionSyntax(
                short: "rceitf",
                long: [
                    "requirement", "constraint", "editable", "index-url", "target", "extra-index-url", "find-links",
                    "trusted-host",
                ]),
            hosts: Hosting(
                .packages, options: ["i", "index-url", "extra-index-url", "f", "find-links", "trusted-host"])),
        "pipx": Program(OptionSyntax(long: ["index-url"]), hosts: Hosting(.packages, options: ["index-url"])),
        "uv": Program(
            OptionSyntax(short: "if", long: ["index-url", "extra-index-url", "index", "find-links"]),
            hosts: Hosting(.packages, options: ["i", "index-url", "extra-index-url", "index", "f", "find-links"])),
        "npm": Program(
            OptionSyntax(short: "w", long: ["workspace", "prefix", "registry"]),
            hosts: Hosting(.packages, options: ["registry"])),
        "npx": Program(OptionSyntax(long: ["registry"]), hosts: Hosting(.packages, options: ["registry"])),
        "pnpm": Program(OptionSyntax(long: ["registry"]), hosts: Hosting(.packages, options: ["registry"])),
        "yarn": Program(OptionSyntax(long: ["registry"]), hosts: Hosting(.packages, options: ["registry"])),
        "bun": Program(OptionSyntax(long: ["registry"]), hosts: Hosting(.packages, options: ["registry"])),
    ]
}
