import Foundation
import SwiftProtobuf

// The few OTLP messages a logs export needs, written the way protoc-gen-swift writes them (there is no protoc
// here, and the plugin takes minutes to build), so that both encodings, binary protobuf and OTLP/JSON, come from
// SwiftProtobuf. Field numbers and names are opentelemetry-proto's (v1.5.0):
//   opentelemetry/proto/collector/logs/v1/logs_service.proto  ExportLogsServiceRequest, ...Response, ...PartialSuccess
//   opentelemetry/proto/logs/v1/logs.proto                    ResourceLogs, ScopeLogs, LogRecord
//   opentelemetry/proto/common/v1/common.proto                AnyValue, ArrayValue, KeyValueList, KeyValue,
//                                                             InstrumentationScope
//   opentelemetry/proto/resource/v1/resource.proto            Resource
// Fields claude-guard never sets (trace and span ids, flags, dropped counts, schema URLs, entity refs) are left
// out; a decoder keeps them as unknown fields. LogRecord.severity_number is an enum in the .proto; it is carried
// here as its int32 value: the same varint on the wire, and the integer that OTLP/JSON requires for enums.
// The name maps are SwiftProtobuf's bytecode as the plugin writes it: "\0", then per field in number order an
// opcode (1 same name in JSON, 3 lowerCamelCase JSON name; 2 and 4 the same with a field-number delta after
// them) and the proto name, NUL-terminated.

/// `opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest`: the body of a POST to /v1/logs.
public struct OTLPExportLogsRequest: Sendable {
    public var resourceLogs: [OTLPResourceLogs] = []
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `...ExportLogsServiceResponse`: what the collector answers; `partialSuccess` says what it rejected.
public struct OTLPExportLogsResponse: Sendable {
    public var partialSuccess: OTLPExportLogsPartialSuccess?
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `...ExportLogsPartialSuccess`.
public struct OTLPExportLogsPartialSuccess: Sendable {
    public var rejectedLogRecords: Int64 = 0
    public var errorMessage = ""
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `opentelemetry.proto.logs.v1.ResourceLogs`.
public struct OTLPResourceLogs: Sendable {
    public var resource: OTLPResource?
    public var scopeLogs: [OTLPScopeLogs] = []
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `opentelemetry.proto.resource.v1.Resource`.
public struct OTLPResource: Sendable {
    public var attributes: [OTLPKeyValue] = []
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `opentelemetry.proto.logs.v1.ScopeLogs`.
public struct OTLPScopeLogs: Sendable {
    public var scope: OTLPInstrumentationScope?
    public var logRecords: [OTLPLogRecord] = []
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `opentelemetry.proto.common.v1.InstrumentationScope`.
public struct OTLPInstrumentationScope: Sendable {
    public var name = ""
    public var version = ""
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `opentelemetry.proto.logs.v1.LogRecord`.
public struct OTLPLogRecord: Sendable {
    public var timeUnixNano: UInt64 = 0
    public var observedTimeUnixNano: UInt64 = 0
    /// The `SeverityNumber` enum's value (1-24; 0 unspecified).
    public var severityNumber: Int32 = 0
    public var severityText = ""
    public var body: OTLPAnyValue?
    public var attributes: [OTLPKeyValue] = []
    public var eventName = ""
    public var unknownFields = UnknownStorage()
    public init() {}
}

/// `opentelemetry.proto.common.v1.KeyValue`.
public struct OTLPKeyValue: Sendable {
    public var key = ""
    public var value: OTLPAnyValue?
    public var unknownFields = UnknownStorage()
    public init() {}

    public init(_ key: String, _ value: OTLPAnyValue) {
        self.key = key
        self.value = value
    }
}

/// `opentelemetry.proto.common.v1.AnyValue`: one of a string, bool, int, double, array, key-value list or bytes.
public struct OTLPAnyValue: Sendable {
    public enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case array(OTLPArrayValue)
        case kvlist(OTLPKeyValueList)
        case bytes([UInt8])
    }

    public var value: Value?
    public var unknownFields = UnknownStorage()
    public init() {}
    public init(_ value: Value) { self.value = value }

    public static func string(_ s: String) -> OTLPAnyValue { OTLPAnyValue(.string(s)) }
    public static func int(_ i: Int64) -> OTLPAnyValue { OTLPAnyValue(.int(i)) }
}

/// `opentelemetry.proto.common.v1.ArrayValue`.
public struct OTLPArrayValue: Sendable, Equatable {
    public var values: [OTLPAnyValue] = []
    public var unknownFields = UnknownStorage()
    public init() {}
    public init(_ values: [OTLPAnyValue]) { self.values = values }
}

/// `opentelemetry.proto.common.v1.KeyValueList`.
public struct OTLPKeyValueList: Sendable, Equatable {
    public var values: [OTLPKeyValue] = []
    public var unknownFields = UnknownStorage()
    public init() {}
    public init(_ values: [OTLPKeyValue]) { self.values = values }
}

// MARK: - SwiftProtobuf conformances, as protoc-gen-swift writes them.

extension OTLPExportLogsRequest: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPExportLogsRequest, b: OTLPExportLogsRequest) -> Bool {
        a.resourceLogs == b.resourceLogs && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{3}resource_logs\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            if n == 1 { try decoder.decodeRepeatedMessageField(value: &resourceLogs) }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if !resourceLogs.isEmpty { try visitor.visitRepeatedMessageField(value: resourceLogs, fieldNumber: 1) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPExportLogsResponse: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPExportLogsResponse, b: OTLPExportLogsResponse) -> Bool {
        a.partialSuccess == b.partialSuccess && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{3}partial_success\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            if n == 1 { try decoder.decodeSingularMessageField(value: &partialSuccess) }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if let p = partialSuccess { try visitor.visitSingularMessageField(value: p, fieldNumber: 1) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPExportLogsPartialSuccess: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPExportLogsPartialSuccess, b: OTLPExportLogsPartialSuccess) -> Bool {
        a.rejectedLogRecords == b.rejectedLogRecords && a.errorMessage == b.errorMessage
            && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{3}rejected_log_records\0\u{3}error_message\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1: try decoder.decodeSingularInt64Field(value: &rejectedLogRecords)
            case 2: try decoder.decodeSingularStringField(value: &errorMessage)
            default: break
            }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if rejectedLogRecords != 0 { try visitor.visitSingularInt64Field(value: rejectedLogRecords, fieldNumber: 1) }
        if !errorMessage.isEmpty { try visitor.visitSingularStringField(value: errorMessage, fieldNumber: 2) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPResourceLogs: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPResourceLogs, b: OTLPResourceLogs) -> Bool {
        a.resource == b.resource && a.scopeLogs == b.scopeLogs && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.logs.v1.ResourceLogs"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}resource\0\u{3}scope_logs\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1: try decoder.decodeSingularMessageField(value: &resource)
            case 2: try decoder.decodeRepeatedMessageField(value: &scopeLogs)
            default: break
            }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if let r = resource { try visitor.visitSingularMessageField(value: r, fieldNumber: 1) }
        if !scopeLogs.isEmpty { try visitor.visitRepeatedMessageField(value: scopeLogs, fieldNumber: 2) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPResource: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPResource, b: OTLPResource) -> Bool {
        a.attributes == b.attributes && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.resource.v1.Resource"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}attributes\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            if n == 1 { try decoder.decodeRepeatedMessageField(value: &attributes) }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if !attributes.isEmpty { try visitor.visitRepeatedMessageField(value: attributes, fieldNumber: 1) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPScopeLogs: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPScopeLogs, b: OTLPScopeLogs) -> Bool {
        a.scope == b.scope && a.logRecords == b.logRecords && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.logs.v1.ScopeLogs"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}scope\0\u{3}log_records\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1: try decoder.decodeSingularMessageField(value: &scope)
            case 2: try decoder.decodeRepeatedMessageField(value: &logRecords)
            default: break
            }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if let s = scope { try visitor.visitSingularMessageField(value: s, fieldNumber: 1) }
        if !logRecords.isEmpty { try visitor.visitRepeatedMessageField(value: logRecords, fieldNumber: 2) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPInstrumentationScope: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPInstrumentationScope, b: OTLPInstrumentationScope) -> Bool {
        a.name == b.name && a.version == b.version && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.common.v1.InstrumentationScope"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}name\0\u{1}version\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1: try decoder.decodeSingularStringField(value: &name)
            case 2: try decoder.decodeSingularStringField(value: &version)
            default: break
            }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if !name.isEmpty { try visitor.visitSingularStringField(value: name, fieldNumber: 1) }
        if !version.isEmpty { try visitor.visitSingularStringField(value: version, fieldNumber: 2) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPLogRecord: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPLogRecord, b: OTLPLogRecord) -> Bool {
        a.timeUnixNano == b.timeUnixNano && a.observedTimeUnixNano == b.observedTimeUnixNano
            && a.severityNumber == b.severityNumber && a.severityText == b.severityText && a.body == b.body
            && a.attributes == b.attributes && a.eventName == b.eventName && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.logs.v1.LogRecord"
    public static let _protobuf_nameMap = _NameMap(
        bytecode:
            "\0\u{3}time_unix_nano\0\u{3}severity_number\0\u{3}severity_text\0\u{2}\u{2}body\0\u{1}attributes\0\u{4}\u{5}observed_time_unix_nano\0\u{3}event_name\0"
    )

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1: try decoder.decodeSingularFixed64Field(value: &timeUnixNano)
            case 2: try decoder.decodeSingularInt32Field(value: &severityNumber)
            case 3: try decoder.decodeSingularStringField(value: &severityText)
            case 5: try decoder.decodeSingularMessageField(value: &body)
            case 6: try decoder.decodeRepeatedMessageField(value: &attributes)
            case 11: try decoder.decodeSingularFixed64Field(value: &observedTimeUnixNano)
            case 12: try decoder.decodeSingularStringField(value: &eventName)
            default: break
            }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if timeUnixNano != 0 { try visitor.visitSingularFixed64Field(value: timeUnixNano, fieldNumber: 1) }
        if severityNumber != 0 { try visitor.visitSingularInt32Field(value: severityNumber, fieldNumber: 2) }
        if !severityText.isEmpty { try visitor.visitSingularStringField(value: severityText, fieldNumber: 3) }
        if let b = body { try visitor.visitSingularMessageField(value: b, fieldNumber: 5) }
        if !attributes.isEmpty { try visitor.visitRepeatedMessageField(value: attributes, fieldNumber: 6) }
        if observedTimeUnixNano != 0 {
            try visitor.visitSingularFixed64Field(value: observedTimeUnixNano, fieldNumber: 11)
        }
        if !eventName.isEmpty { try visitor.visitSingularStringField(value: eventName, fieldNumber: 12) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPKeyValue: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPKeyValue, b: OTLPKeyValue) -> Bool {
        a.key == b.key && a.value == b.value && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.common.v1.KeyValue"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}key\0\u{1}value\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1: try decoder.decodeSingularStringField(value: &key)
            case 2: try decoder.decodeSingularMessageField(value: &value)
            default: break
            }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if !key.isEmpty { try visitor.visitSingularStringField(value: key, fieldNumber: 1) }
        if let v = value { try visitor.visitSingularMessageField(value: v, fieldNumber: 2) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPAnyValue: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPAnyValue, b: OTLPAnyValue) -> Bool {
        a.value == b.value && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.common.v1.AnyValue"
    public static let _protobuf_nameMap = _NameMap(
        bytecode:
            "\0\u{3}string_value\0\u{3}bool_value\0\u{3}int_value\0\u{3}double_value\0\u{3}array_value\0\u{3}kvlist_value\0\u{3}bytes_value\0"
    )

    /// One member of the `value` oneof: the last one read wins, as protobuf says.
    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            switch n {
            case 1:
                var s: String?
                try decoder.decodeSingularStringField(value: &s)
                if let s { value = .string(s) }
            case 2:
                var b: Bool?
                try decoder.decodeSingularBoolField(value: &b)
                if let b { value = .bool(b) }
            case 3:
                var i: Int64?
                try decoder.decodeSingularInt64Field(value: &i)
                if let i { value = .int(i) }
            case 4:
                var d: Double?
                try decoder.decodeSingularDoubleField(value: &d)
                if let d { value = .double(d) }
            case 5:
                var a: OTLPArrayValue?
                try decoder.decodeSingularMessageField(value: &a)
                if let a { value = .array(a) }
            case 6:
                var l: OTLPKeyValueList?
                try decoder.decodeSingularMessageField(value: &l)
                if let l { value = .kvlist(l) }
            case 7:
                var d: Data?
                try decoder.decodeSingularBytesField(value: &d)
                if let d { value = .bytes(Array(d)) }
            default: break
            }
        }
    }

    /// A oneof member is written even when it holds its type's default (an empty string, 0, false).
    public func traverse<V: Visitor>(visitor: inout V) throws {
        switch value {
        case .string(let s): try visitor.visitSingularStringField(value: s, fieldNumber: 1)
        case .bool(let b): try visitor.visitSingularBoolField(value: b, fieldNumber: 2)
        case .int(let i): try visitor.visitSingularInt64Field(value: i, fieldNumber: 3)
        case .double(let d): try visitor.visitSingularDoubleField(value: d, fieldNumber: 4)
        case .array(let a): try visitor.visitSingularMessageField(value: a, fieldNumber: 5)
        case .kvlist(let l): try visitor.visitSingularMessageField(value: l, fieldNumber: 6)
        case .bytes(let d): try visitor.visitSingularBytesField(value: Data(d), fieldNumber: 7)
        case nil: break
        }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPArrayValue: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPArrayValue, b: OTLPArrayValue) -> Bool {
        a.values == b.values && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.common.v1.ArrayValue"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}values\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            if n == 1 { try decoder.decodeRepeatedMessageField(value: &values) }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if !values.isEmpty { try visitor.visitRepeatedMessageField(value: values, fieldNumber: 1) }
        try unknownFields.traverse(visitor: &visitor)
    }
}

extension OTLPKeyValueList: Message, _MessageImplementationBase, _ProtoNameProviding {
    public static func == (a: OTLPKeyValueList, b: OTLPKeyValueList) -> Bool {
        a.values == b.values && a.unknownFields == b.unknownFields
    }

    public static let protoMessageName = "opentelemetry.proto.common.v1.KeyValueList"
    public static let _protobuf_nameMap = _NameMap(bytecode: "\0\u{1}values\0")

    public mutating func decodeMessage<D: Decoder>(decoder: inout D) throws {
        while let n = try decoder.nextFieldNumber() {
            if n == 1 { try decoder.decodeRepeatedMessageField(value: &values) }
        }
    }

    public func traverse<V: Visitor>(visitor: inout V) throws {
        if !values.isEmpty { try visitor.visitRepeatedMessageField(value: values, fieldNumber: 1) }
        try unknownFields.traverse(visitor: &visitor)
    }
}
