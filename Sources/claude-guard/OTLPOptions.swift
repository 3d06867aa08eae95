import ArgumentParser
import Foundation
import GuardCore

/// The OTLP export options, one group shared by the guard and `daemon` (swift-argument-parser's `@OptionGroup`).
struct OTLPOptions: ParsableArguments {
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

    /// The OTLP export, from the --otlp options and the OTEL_EXPORTER_OTLP_* variables; nil when it is off.
    func config() throws -> OTLPConfig? {
        try OTLPConfig.resolve(
            url: otlp, json: otlpJSON, headers: otlpHeader, queueCapacity: otlpQueue,
            environment: ProcessInfo.processInfo.environment)
    }

    func validate() throws {
        do {
            _ = try config()
        } catch let e as OTLPConfigError {
            throw ValidationError(e.description)
        }
    }
}
