import ArgumentParser
import Foundation
import GuardCore
import GuardKernel

struct DaemonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract:
            "Guard every process that matches a guard of the config (name, executable, user, cgroup), each with its policy.",
        discussion: """
            Runs until SIGTERM; SIGHUP reloads the config and the policies (one that does not validate keeps the
            old one and the log says why). Under systemd (Type=notify) it reports readiness and logs to the
            journal; see claude-guard.service and /etc/claude-guard/daemon.yaml.
            """
    )

    @Option(help: ArgumentHelp("The daemon's YAML config: the guards.", valueName: "FILE"))
    var config: String

    @Flag(help: "Only check the config and the policies it names (no root needed): exit 0, or 2 with file:line:column.")
    var check = false

    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: ArgumentHelp("Write every record as JSON Lines to FILE (appended) instead of stdout.", valueName: "FILE"))
    var output: String?

    @OptionGroup var otlpOptions: OTLPOptions

    func run() throws {
        if check {
            do {
                for line in try Daemon.check(configPath: config) { print(line) }
                return
            } catch {
                Stderr.write("claude-guard: error: \(error.description)\n")
                throw ExitCode(2)
            }
        }
        try runGuarded {
            var o = DaemonOptions(configPath: config)
            o.outputPath = output
            o.otlp = try otlpOptions.config()
            let daemon = try Daemon(options: o)
            return daemon.run()
        }
    }
}
