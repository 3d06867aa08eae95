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

    @Option(
        help: ArgumentHelp(
            "Also send every record to an OpenTelemetry Collector as OTLP/HTTP logs (a base URL gets /v1/logs; OTEL_EXPORTER_OTLP_* variables apply).",
            valueName: "URL"))
    var otlp: String?
    @Flag(help: "With --otlp: OTLP/JSON instead of protobuf.")
    var otlpJSON = false
    @Option(help: ArgumentHelp("With --otlp: an HTTP header for the collector (repeatable).", valueName: "NAME=VALUE"))
    var otlpHeader: [String] = []
    @Option(
        help: ArgumentHelp(
            "With --otlp: records held while the collector is slow or down; past it they are dropped and counted (default 16384).",
            valueName: "N"))
    var otlpQueue: Int?

    func otlpConfig() throws -> OTLPConfig? {
        try OTLPConfig.resolve(
            url: otlp, json: otlpJSON, headers: otlpHeader, queueCapacity: otlpQueue,
            environment: ProcessInfo.processInfo.environment)
    }

    func validate() throws {
        do {
            _ = try otlpConfig()
        } catch let e as OTLPConfigError {
            throw ValidationError(e.description)
        }
    }

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
            o.otlp = try otlpConfig()
            let daemon = try Daemon(options: o)
            return daemon.run()
        }
    }
}
