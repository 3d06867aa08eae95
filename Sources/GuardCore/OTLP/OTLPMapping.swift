#if canImport(Glibc)
    import Glibc
#endif

/// Turns the guard's JSON Lines records (SPEC §4: exec, exit, file, llm, https, lost, summary, notices) into OTLP
/// LogRecords.
///
/// It reads the very line the guard logs, so every event type, and every field it will ever gain, is exported
/// without a second encoder to keep in step; the one table below says which fields have an OpenTelemetry
/// semantic-convention name. The rest go under `claude_guard.`. The parse runs on the exporter's thread, never
/// on the one that enforces.
public enum OTLPMapping {
    /// Field names with a semantic-convention name, for every event type ("" key) or one type.
    ///
    /// Semantic conventions v1.37: process.*, user.id, file.path, error.type, http.*, url.path, server.address,
    /// thread.id, gen_ai.*.
    static let semconv: [String: [String: String]] = [
        "": [
            "pid": "process.pid", "ppid": "process.parent_pid", "comm": "process.executable.name",
            "argv": "process.command_args", "cwd": "process.working_directory", "tool_use_id": "gen_ai.tool.call.id",
            "tid": "thread.id",
        ],
        "exec": ["path": "process.executable.path"],
        "exec-failed": ["error": "error.type"],
        "exit": ["status": "process.exit.code"],
        "file": ["path": "file.path", "error": "error.type"],
        "https": [
            "method": "http.request.method", "status": "http.response.status_code", "host": "server.address",
            "path": "url.path", "protocol": "network.protocol.name",
        ],
        "llm": [
            "host": "server.address", "path": "url.path", "status": "http.response.status_code",
            "model": "gen_ai.request.model", "provider": "gen_ai.provider.name", "id": "gen_ai.tool.call.id",
            "name": "gen_ai.tool.name",
        ],
    ]

    /// Fields that are not attributes: the type is the record's event name, the time its timestamp.
    static let notAttributes: Set<String> = ["type", "time"]

    /// The prefix of the fields that have no semantic-convention name.
    public static let prefix = "claude_guard."

    /// The attribute name of an event field.
    public static func attributeName(_ field: String, type: String) -> String {
        semconv[type]?[field] ?? semconv[""]?[field] ?? prefix + field
    }

    /// One JSON Lines record (as `EventJSON` and `TrafficJSON` write it) as a LogRecord; nil when it is not an
    /// object with a `type`.
    public static func logRecord(jsonLine: some Collection<UInt8>, observedNs: UInt64) -> OTLPLogRecord? {
        guard let value = JSONValue.parse(jsonLine), let members = value.members,
            let type = value["type"]?.string
        else { return nil }
        var r = OTLPLogRecord()
        r.eventName = prefix + type
        r.observedTimeUnixNano = observedNs
        r.timeUnixNano = value["time"]?.string.flatMap(unixNanos) ?? observedNs
        (r.severityNumber, r.severityText) = severity(type: type, rule: value["severity"]?.string)
        r.body = .string(body(type: type, value))
        r.attributes.reserveCapacity(members.count + 1)
        r.attributes.append(OTLPKeyValue(prefix + "event", .string(type)))
        for m in members where !notAttributes.contains(m.key) {
            if m.key == "uid", let uid = m.value.int {
                // user.id is a string in the conventions; process.user.id the number.
                r.attributes.append(OTLPKeyValue("user.id", .string(String(uid))))
                r.attributes.append(OTLPKeyValue("process.user.id", .int(Int64(uid))))
                continue
            }
            guard let v = anyValue(m.value) else { continue }
            r.attributes.append(OTLPKeyValue(attributeName(m.key, type: type), v))
        }
        return r
    }

    /// The body: an exec's command line (argv joined by spaces), a notice's message, else the event type.
    static func body(type: String, _ value: JSONValue) -> String {
        switch type {
        case "exec", "exec-failed":
            guard let argv = value["argv"]?.array else { return type }
            return argv.compactMap(\.string).joined(separator: " ")
        case "notice":
            return value["message"]?.string ?? type
        default:
            return type
        }
    }

    /// SeverityNumber and text: a violation's from its rule's severity (the text is the rule's word), a loss of
    /// records and a notice WARN, every other event INFO.
    ///
    /// OTel's ranges: INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24.
    public static func severity(type: String, rule: String?) -> (Int32, String) {
        if let rule, let s = Severity(rawValue: rule) {
            switch s {
            case .info: return (9, rule)
            case .low: return (13, rule)
            case .medium: return (17, rule)
            case .high: return (19, rule)
            case .critical: return (21, rule)
            }
        }
        if type == "lost" || type == "notice" { return (13, "WARN") }
        return (9, "INFO")
    }

    /// A JSON value as an AnyValue (objects as key-value lists); nil for JSON null.
    static func anyValue(_ v: JSONValue) -> OTLPAnyValue? {
        switch v {
        case .null: return nil
        case .bool(let b): return OTLPAnyValue(.bool(b))
        case .string(let s): return .string(s)
        case .number(let n):
            if let i = Int64(n) { return .int(i) }
            return Double(n).map { OTLPAnyValue(.double($0)) } ?? .string(n)
        case .array(let items): return OTLPAnyValue(.array(OTLPArrayValue(items.compactMap(anyValue))))
        case .object(let members):
            let kvs = members.compactMap { m in anyValue(m.value).map { OTLPKeyValue(m.key, $0) } }
            return OTLPAnyValue(.kvlist(OTLPKeyValueList(kvs)))
        }
    }

    /// `2026-11-23T12:34:56.123456Z` (RFC3339.format's shape, any number of fraction digits) as Unix nanoseconds.
    public static func unixNanos(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func num(_ at: Int, _ n: Int) -> Int32? {
            guard at + n <= b.count else { return nil }
            var v: Int32 = 0
            for c in b[at..<(at + n)] {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int32(c - UInt8(ascii: "0"))
            }
            return v
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"), b.last == UInt8(ascii: "Z"),
            let year = num(0, 4), let month = num(5, 2), let day = num(8, 2), let hour = num(11, 2),
            let minute = num(14, 2), let second = num(17, 2)
        else { return nil }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = month - 1
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        let secs = timegm(&t)
        guard secs >= 0 else { return nil }
        var nanos: UInt64 = 0
        if b[19] == UInt8(ascii: ".") {
            let digits = b[20..<(b.count - 1)]
            guard digits.count <= 9, let f = num(20, digits.count) else { return nil }
            nanos = UInt64(f)
            for _ in digits.count..<9 { nanos *= 10 }
        }
        return UInt64(secs) * 1_000_000_000 + nanos
    }
}

/// What every record of one guard shares: the OTLP Resource (who sent it) and InstrumentationScope.
public struct OTLPResourceInfo: Sendable {
    public var policy: String
    /// enforce | audit.
    public var mode: String
    public var hostName: String

    public init(policy: String, mode: String, hostName: String = OTLPResourceInfo.localHostName()) {
        self.policy = policy
        self.mode = mode
        self.hostName = hostName
    }

    /// service.name, service.version, host.name, claude_guard.policy, claude_guard.mode.
    public var resource: OTLPResource {
        var r = OTLPResource()
        r.attributes = [
            OTLPKeyValue("service.name", .string("claude-guard")),
            OTLPKeyValue("service.version", .string(Version.number)),
            OTLPKeyValue("host.name", .string(hostName)),
            OTLPKeyValue(OTLPMapping.prefix + "policy", .string(policy)),
            OTLPKeyValue(OTLPMapping.prefix + "mode", .string(mode)),
        ]
        return r
    }

    /// One export request holding these records.
    public func request(_ records: [OTLPLogRecord]) -> OTLPExportLogsRequest {
        var scope = OTLPScopeLogs()
        scope.scope = OTLPInstrumentationScope()
        scope.scope?.name = "claude-guard"
        scope.scope?.version = Version.number
        scope.logRecords = records
        var rl = OTLPResourceLogs()
        rl.resource = resource
        rl.scopeLogs = [scope]
        var req = OTLPExportLogsRequest()
        req.resourceLogs = [rl]
        return req
    }

    public static func localHostName() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "unknown" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
