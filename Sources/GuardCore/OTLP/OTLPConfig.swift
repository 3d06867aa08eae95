/// Where and how the guard exports its records over OTLP/HTTP: from `--otlp*` options and the standard
/// `OTEL_EXPORTER_OTLP_*` environment variables (OpenTelemetry's "OTLP Exporter Configuration"); options win,
/// then the logs-specific variable, then the generic one.
public struct OTLPConfig: Sendable, Equatable {
    /// host, port and path of an `http://` endpoint (the full logs path, `/v1/logs` by default).
    public var host: String
    public var port: UInt16
    public var path: String
    /// OTLP/JSON instead of binary protobuf.
    public var json: Bool
    public var headers: [(String, String)]
    public var gzip: Bool
    /// Per request, ms (OTEL_EXPORTER_OTLP_TIMEOUT; 10 s by default as the spec says).
    public var timeoutMs: Int
    /// Records held while the collector is slow or down; past it they are dropped and counted.
    public var queueCapacity: Int

    public static let defaultQueueCapacity = 16_384

    public static func == (a: OTLPConfig, b: OTLPConfig) -> Bool {
        a.host == b.host && a.port == b.port && a.path == b.path && a.json == b.json && a.gzip == b.gzip
            && a.timeoutMs == b.timeoutMs && a.queueCapacity == b.queueCapacity
            && a.headers.map { [$0.0, $0.1] } == b.headers.map { [$0.0, $0.1] }
    }

    /// The endpoint as a URL, for messages.
    public var url: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }

    /// The configuration, or nil when export is off: on with `--otlp URL`, or with `OTEL_LOGS_EXPORTER=otlp` and an
    /// endpoint in the environment (a variable alone does not start sending the agent's commands anywhere).
    ///
    /// - Throws: `OTLPConfigError` for a URL, header, protocol or compression it cannot use.
    public static func resolve(
        url: String?, json: Bool, headers: [String], queueCapacity: Int? = nil, environment: [String: String]
    ) throws -> OTLPConfig? {
        func env(_ name: String) -> String? {
            let v = environment["OTEL_EXPORTER_OTLP_LOGS_" + name] ?? environment["OTEL_EXPORTER_OTLP_" + name]
            return v.map { $0.trimmingSpaces() }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let endpoint: (String, base: Bool)
        if let url {
            endpoint = (url, true)
        } else if environment["OTEL_LOGS_EXPORTER"]?.lowercased() == "otlp" {
            // LOGS_ENDPOINT is used as it is; the generic one is a base that /v1/logs is appended to.
            if let e = environment["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"], !e.isEmpty {
                endpoint = (e, false)
            } else {
                endpoint = (environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "http://localhost:4318", true)
            }
        } else {
            return nil
        }
        var (host, port, path) = try parseURL(endpoint.0)
        if endpoint.base && !path.hasSuffix("/v1/logs") {
            path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/v1/logs"
        }
        var isJSON = json
        if !json, let proto = env("PROTOCOL") {
            switch proto {
            case "http/protobuf": break
            case "http/json": isJSON = true
            default: throw OTLPConfigError.protocolUnsupported(proto)
            }
        }
        var merged: [(String, String)] = []
        func add(_ k: String, _ v: String) {
            merged.removeAll { $0.0.lowercased() == k.lowercased() }
            merged.append((k, v))
        }
        for name in ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS"] {
            for (k, v) in try parseHeaderList(environment[name] ?? "", variable: name) { add(k, v) }
        }
        for h in headers {
            guard let eq = h.firstIndex(of: "="), eq != h.startIndex else { throw OTLPConfigError.badHeader(h) }
            add(String(h[..<eq]).trimmingSpaces(), String(h[h.index(after: eq)...]).trimmingSpaces())
        }
        for (k, v) in merged where !isToken(k) || v.utf8.contains(where: { $0 == 10 || $0 == 13 }) {
            throw OTLPConfigError.badHeader(k + "=" + v)
        }
        let gzip: Bool
        switch env("COMPRESSION")?.lowercased() {
        case nil, "none": gzip = false
        case "gzip": gzip = true
        case let other?: throw OTLPConfigError.compressionUnsupported(other)
        }
        var timeout = 10_000
        if let t = env("TIMEOUT") {
            guard let ms = Int(t), ms > 0 else { throw OTLPConfigError.badTimeout(t) }
            timeout = ms
        }
        let capacity = queueCapacity ?? defaultQueueCapacity
        guard capacity > 0 else { throw OTLPConfigError.badQueue(capacity) }
        return OTLPConfig(
            host: host, port: port, path: path, json: isJSON, headers: merged, gzip: gzip, timeoutMs: timeout,
            queueCapacity: capacity)
    }

    /// `http://HOST[:PORT][/PATH]` (port 4318 by default, OTLP/HTTP's).
    static func parseURL(_ url: String) throws -> (String, UInt16, String) {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { throw OTLPConfigError.tlsUnsupported(url) }
        guard lower.hasPrefix("http://") else { throw OTLPConfigError.badURL(url) }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = rest[slash...].isEmpty ? "/" : String(rest[slash...])
        var host = Substring(authority)
        var port: UInt16 = 4318
        if authority.hasPrefix("[") {
            // [IPv6]:port
            guard let close = authority.firstIndex(of: "]") else { throw OTLPConfigError.badURL(url) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let p = UInt16(after.dropFirst()) else { throw OTLPConfigError.badURL(url) }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = UInt16(authority[authority.index(after: colon)...]) else { throw OTLPConfigError.badURL(url) }
            port = p
        }
        guard !host.isEmpty, !host.contains("@") else { throw OTLPConfigError.badURL(url) }
        return (String(host), port, path)
    }

    /// `k1=v1,k2=v2` with percent-encoded values (the spec's format of OTEL_EXPORTER_OTLP_HEADERS).
    static func parseHeaderList(_ list: String, variable: String) throws -> [(String, String)] {
        var out: [(String, String)] = []
        for item in list.split(separator: ",") {
            let pair = item.trimmingSpaces()
            if pair.isEmpty { continue }
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw OTLPConfigError.badHeaderVariable(variable, String(pair))
            }
            let key = String(pair[..<eq]).trimmingSpaces()
            let value = percentDecoded(String(pair[pair.index(after: eq)...]).trimmingSpaces())
            out.append((key, value))
        }
        return out
    }

    static func percentDecoded(_ s: String) -> String {
        let b = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "%"), i + 2 < b.count,
                let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                out.append(v)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An HTTP field name (RFC 9110 token).
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty
            && s.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || "!#$%&'*+-.^_`|~".utf8.contains(c)
            }
    }
}

/// What is wrong with the OTLP export's configuration.
public enum OTLPConfigError: Error, CustomStringConvertible, Equatable {
    /// The endpoint is not an `http://host[:port][/path]` URL.
    case badURL(String)
    /// An `https://` endpoint: the exporter speaks plain HTTP only.
    case tlsUnsupported(String)
    /// `--otlp-header` is not `NAME=VALUE`, or the name is not an HTTP field name.
    case badHeader(String)
    /// An OTEL_EXPORTER_OTLP_*HEADERS entry is not `name=value`.
    case badHeaderVariable(String, String)
    /// OTEL_EXPORTER_OTLP_*PROTOCOL is grpc or unknown.
    case protocolUnsupported(String)
    /// OTEL_EXPORTER_OTLP_*COMPRESSION is neither gzip nor none.
    case compressionUnsupported(String)
    /// OTEL_EXPORTER_OTLP_*TIMEOUT is not a positive number of milliseconds.
    case badTimeout(String)
    /// --otlp-queue is not positive.
    case badQueue(Int)

    public var description: String {
        switch self {
        case .badURL(let u): return "OTLP endpoint '\(u)' is not an http://HOST[:PORT][/PATH] URL"
        case .tlsUnsupported(let u):
            return "OTLP endpoint '\(u)': https is not supported; send to a local OpenTelemetry Collector "
                + "(http://127.0.0.1:4318) and let it forward over TLS"
        case .badHeader(let h): return "--otlp-header '\(h)' is not NAME=VALUE with an HTTP field name"
        case .badHeaderVariable(let v, let h): return "\(v): '\(h)' is not name=value (entries are comma-separated)"
        case .protocolUnsupported(let p):
            return "OTLP protocol '\(p)' is not supported: use http/protobuf (the default) or http/json"
        case .compressionUnsupported(let c): return "OTLP compression '\(c)' is not supported: use gzip or none"
        case .badTimeout(let t): return "OTLP timeout '\(t)' is not a positive number of milliseconds"
        case .badQueue(let n): return "--otlp-queue \(n): the queue needs room for at least one record"
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        let s = drop { $0 == " " || $0 == "\t" }
        return String(s.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
