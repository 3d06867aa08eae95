/// The option syntax of the programs that neither wrap another, nor are shells, downloaders or network clients
/// (those are in WrapperTable.swift, Programs.swift and NetworkPrograms.swift): which options take a value, so that `-n 5` is not read as a flag
/// bundle plus an operand and `-o FILE` is not taken for a path operand, and which options imply others.
extension Programs {
    static let commands: [String: OptionSyntax] = [
        // rm --interactive=never (no, none, or a prefix) never prompts: it deletes as -f does.
        "rm": OptionSyntax(implications: [
            Implication(trigger: .long("interactive"), values: ["never", "no", "none"], implies: .named("f", "force"))
        ]),
        "tar": OptionSyntax(
            short: "fCbHKNTVXgLI", long: ["file", "directory", "files-from", "exclude-from", "exclude", "transform"]),
        "head": OptionSyntax(short: "nc", long: ["lines", "bytes"]),
        "tail": OptionSyntax(short: "ncs", long: ["lines", "bytes", "sleep-interval", "pid"]),
        "sed": OptionSyntax(short: "efl", optional: "i", long: ["expression", "file", "line-length"]),
        "grep": OptionSyntax(
            short: "efmABCdD",
            long: ["regexp", "file", "max-count", "after-context", "before-context", "context", "include", "exclude"]),
        "kill": OptionSyntax(short: "sn"),
        "pkill": OptionSyntax(short: "gGPsStUu"),
        "mkfs": OptionSyntax(short: "tLbgGIjJNmoOrTUECM", long: ["type"]),
        "cp": OptionSyntax(short: "tS", long: ["target-directory", "suffix"]),
        // mv's whole long option table (coreutils 9.1), so that `--target` and `--no-t` read as mv reads them
        // (`Evaluator.moveTarget`).
        "mv": OptionSyntax(
            short: "tS",
            longs: "backup? force interactive no-clobber strip-trailing-slashes suffix= target-directory= "
                + "no-target-directory update verbose context help version"),
        "ln": OptionSyntax(short: "tS", long: ["target-directory", "suffix"]),
        "install": OptionSyntax(short: "gmoStC", long: ["group", "mode", "owner", "suffix", "target-directory"]),
        "python": OptionSyntax(short: "cmWXQ"),
        "node": OptionSyntax(short: "erp", long: ["eval", "require", "print", "import", "loader"]),
        "perl": OptionSyntax(short: "eEIMm", optional: "i"),
        "ruby": OptionSyntax(short: "eIr"),
        "shred": OptionSyntax(short: "ns", long: ["iterations", "size", "random-source"]),
        "truncate": OptionSyntax(short: "sr", long: ["size", "reference"]),
        "kubectl": OptionSyntax(short: "nfclos", long: ["namespace", "filename", "context", "selector", "output"]),
        "crontab": OptionSyntax(short: "u"),
        "unzip": OptionSyntax(short: "dPx"),
        "zip": OptionSyntax(short: "bnPtx"),
        "chmod": OptionSyntax(long: ["reference"]),
        "chown": OptionSyntax(long: ["reference", "from"]),
        "docker": OptionSyntax(
            short: "eHlvpuwcmt",
            long: ["env", "volume", "publish", "user", "workdir", "name", "network", "entrypoint", "mount", "host"]),
        "systemctl": OptionSyntax(short: "HMtspn", long: ["host", "machine", "type", "signal", "property", "lines"]),
        "journalctl": OptionSyntax(short: "unpSUtDM", long: ["unit", "lines", "priority", "since", "until"]),
        "iptables": OptionSyntax(short: "ADIRNXPFLZjpsdoit", long: ["table", "jump", "protocol", "source"]),
        "useradd": OptionSyntax(short: "dgGsucepkKbfLRZ"),
        "usermod": OptionSyntax(short: "dgGsucepLlR"),
        "openssl": OptionSyntax(singleDashLong: true),
        "java": OptionSyntax(singleDashLong: true),
    ]
}
