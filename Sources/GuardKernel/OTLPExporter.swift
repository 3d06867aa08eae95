import Dispatch
import GuardCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Sends the guard's records to an OpenTelemetry Collector as OTLP/HTTP logs, from a thread of its own.
///
/// Enforcement never waits on it: `add` copies a record into a bounded queue under a lock held only to append,
/// and when the queue is full the record is dropped and counted. The exporter thread batches (512 records, or
/// what came in 1 s), maps the JSON records to LogRecords (`OTLPMapping`), encodes them (protobuf or OTLP/JSON,
/// gzip when asked) and POSTs them; connection errors, 429, 502, 503 and 504 are retried with exponential
/// backoff (0.5 s doubling to 5 s, or the server's Retry-After), holding the batch meanwhile. Once a send gets
/// through after drops, a `lost` record (`source: otlp`) tells the collector how many it missed.
public final class OTLPExporter: Sendable {
    /// What was delivered and what was not.
    public struct Stats: Sendable, Equatable {
        /// Records the collector accepted.
        public var sent: UInt64 = 0
        /// Records dropped because the queue was full (the collector slow or down).
        public var dropped: UInt64 = 0
        /// Records the collector refused (a status that retrying cannot fix, or a partial success).
        public var rejected: UInt64 = 0
        /// Records still queued or in flight when the exit's flush ran out of time.
        public var unsent: UInt64 = 0
        /// Why the last send failed, if it did.
        public var lastError: String?

        /// Everything the collector did not get.
        public var notDelivered: UInt64 { dropped + rejected + unsent }
    }

    private struct State {
        var queue: [[UInt8]] = []
        var head = 0
        /// Records the thread took out of the queue and has not delivered yet: they count against the capacity.
        var inFlight = 0
        var stats = Stats()
        /// Dropped records already told to the collector by a `lost` record.
        var lostReported: UInt64 = 0
        /// A flush is asked for: send everything queued now, give up at `deadlineNs`.
        var flushRequested = 0
        var flushDone = 0
        var deadlineNs: Int64?
        var stop = false

        var queued: Int { queue.count - head }
    }

    /// Records sent in one request: 512, or the whole queue when it is smaller.
    private var batchSize: Int { min(Self.batchSize, config.queueCapacity) }

    public static let batchSize = 512
    static let batchIntervalNs: Int64 = 1_000_000_000
    static let initialBackoffNs: Int64 = 500_000_000
    static let maxBackoffNs: Int64 = 5_000_000_000

    public let config: OTLPConfig
    private let resource: OTLPResourceInfo
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let flushed = DispatchSemaphore(value: 0)

    /// Starts the exporter thread.
    public init(config: OTLPConfig, resource: OTLPResourceInfo) {
        self.config = config
        self.resource = resource
        DispatchQueue(label: "claude-guard.otlp").async { [self] in run() }
    }

    /// Queues one JSON Lines record (as written to -o); never blocks: past the queue's capacity it is dropped.
    public func add(_ line: [UInt8]) {
        let full = state.withLock { s in
            if s.queued + s.inFlight >= config.queueCapacity {
                s.stats.dropped += 1
                return false
            }
            s.queue.append(line)
            return s.queued + s.inFlight == batchSize
        }
        if full { wake.signal() }
    }

    public var stats: Stats { state.withLock { $0.stats } }

    /// Sends what is queued, waiting at most until `deadlineNs` (CLOCK_MONOTONIC); what is left then counts as
    /// unsent. With `stop`, the thread ends after it.
    public func flush(deadlineNs: Int64, stop: Bool = false) {
        let ticket = state.withLock { s in
            s.flushRequested += 1
            s.deadlineNs = deadlineNs
            s.stop = s.stop || stop
            return s.flushRequested
        }
        wake.signal()
        while state.withLock({ $0.flushDone }) < ticket {
            // A little past the deadline: the thread gives up at it, this only guards against a lost wake-up.
            let left = deadlineNs + 200_000_000 - BPFGuard.clockNs(CLOCK_MONOTONIC)
            if left <= 0 { break }
            _ = flushed.wait(timeout: .now() + .nanoseconds(Int(min(left, 100_000_000))))
        }
    }

    // MARK: the exporter thread

    private func run() {
        var batch: [[UInt8]] = []
        var backoff = Self.initialBackoffNs
        var nextTry: Int64 = 0
        var lastSend = BPFGuard.clockNs(CLOCK_MONOTONIC)
        var lastTicket = 0
        while true {
            let (flushTicket, deadline, stop) = state.withLock { s in
                let take = min(batchSize - batch.count, s.queued)
                if take > 0 {
                    batch += s.queue[s.head..<(s.head + take)]
                    s.head += take
                    s.inFlight = batch.count
                    if s.head > 4096 && s.head * 2 > s.queue.count {
                        s.queue.removeFirst(s.head)
                        s.head = 0
                    }
                }
                return (s.flushRequested > s.flushDone ? s.flushRequested : nil, s.deadlineNs, s.stop)
            }
            let now = BPFGuard.clockNs(CLOCK_MONOTONIC)
            if let ticket = flushTicket, ticket != lastTicket {
                // A flush tries at once, whatever the backoff said.
                lastTicket = ticket
                nextTry = 0
            }
            if let ticket = flushTicket {
                if batch.isEmpty || (deadline.map { now >= $0 } ?? false) {
                    giveUp(&batch, ticket: ticket)
                    if stop { return }
                    continue
                }
            } else if batch.isEmpty {
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(Self.batchIntervalNs)))
                continue
            }
            let ready = batch.count >= batchSize || flushTicket != nil
            let due = max(nextTry, ready ? now : lastSend + Self.batchIntervalNs)
            if now < due {
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(due - now)))
                continue
            }
            let until = min(now + Int64(config.timeoutMs) * 1_000_000, deadline ?? .max)
            switch send(batch, deadlineNs: until) {
            case .delivered:
                batch.removeAll(keepingCapacity: true)
                state.withLock { $0.inFlight = 0 }
                backoff = Self.initialBackoffNs
                nextTry = 0
                lastSend = BPFGuard.clockNs(CLOCK_MONOTONIC)
            case .retry(let after, let why):
                state.withLock { $0.stats.lastError = why }
                if flushTicket != nil && after == nil {
                    // The collector is not there at exit: waiting out the deadline would not bring it back.
                    giveUp(&batch, ticket: flushTicket ?? 0)
                    if stop { return }
                    continue
                }
                nextTry = BPFGuard.clockNs(CLOCK_MONOTONIC) + (after ?? backoff)
                backoff = min(backoff * 2, Self.maxBackoffNs)
            case .rejected(let why):
                state.withLock {
                    $0.stats.rejected += UInt64(batch.count)
                    $0.stats.lastError = why
                    $0.inFlight = 0
                }
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Ends a flush: the batch and whatever is queued count as unsent.
    private func giveUp(_ batch: inout [[UInt8]], ticket: Int) {
        state.withLock { s in
            s.stats.unsent += UInt64(batch.count + s.queued)
            s.queue.removeAll()
            s.head = 0
            s.inFlight = 0
            s.flushDone = ticket
        }
        batch.removeAll()
        flushed.signal()
    }

    private enum SendResult {
        case delivered
        /// Worth trying again: after this many ns when the server said so (Retry-After), else after the backoff.
        case retry(afterNs: Int64?, String)
        case rejected(String)
    }

    private func send(_ batch: [[UInt8]], deadlineNs: Int64) -> SendResult {
        let observed = UInt64(BPFGuard.clockNs(CLOCK_REALTIME))
        var records = batch.compactMap { OTLPMapping.logRecord(jsonLine: $0, observedNs: observed) }
        let dropped = state.withLock { $0.stats.dropped }
        let missed = dropped - state.withLock { $0.lostReported }
        if missed > 0, let lost = OTLPMapping.logRecord(jsonLine: Self.lostLine(missed), observedNs: observed) {
            records.insert(lost, at: 0)
        }
        let request = resource.request(records)
        var body: [UInt8]
        do {
            body = config.json ? try request.jsonUTF8Bytes() : try request.serializedBytes()
        } catch {
            return .rejected("encoding failed: \(error)")
        }
        var headers = config.headers
        headers.append(("Content-Type", config.json ? "application/json" : "application/x-protobuf"))
        if config.gzip, let packed = Gzip.compress(body) {
            body = packed
            headers.append(("Content-Encoding", "gzip"))
        }
        let outcome = OTLPHTTP.post(
            host: config.host, port: config.port, path: config.path, headers: headers, body: body,
            deadlineNs: deadlineNs)
        switch outcome {
        case .failed(let why):
            return .retry(afterNs: nil, why)
        case .response(let status, _, let answer) where (200..<300).contains(status):
            var rejected: Int64 = 0
            var message = ""
            let response =
                config.json
                ? try? OTLPExportLogsResponse(jsonUTF8Bytes: answer)
                : try? OTLPExportLogsResponse(serializedBytes: answer)
            if let p = response?.partialSuccess {
                rejected = max(0, min(p.rejectedLogRecords, Int64(batch.count)))
                message = p.errorMessage
            }
            state.withLock { s in
                s.stats.sent += UInt64(batch.count) - UInt64(rejected)
                s.stats.rejected += UInt64(rejected)
                s.lostReported = max(s.lostReported, dropped)
                if rejected > 0 { s.stats.lastError = "the collector rejected \(rejected) record(s): \(message)" }
            }
            return .delivered
        case .response(let status, let retryAfter, _) where [429, 502, 503, 504].contains(status):
            let after = retryAfter.map { Int64(min($0, 60) * 1e9) }
            return .retry(afterNs: after ?? Self.initialBackoffNs, "HTTP \(status) from \(config.url)")
        case .response(let status, _, let answer):
            let text = String(decoding: answer.prefix(200), as: UTF8.self)
            return .rejected("HTTP \(status) from \(config.url): \(text)")
        }
    }

    /// Says on stderr what reached the collector; what did not is said even with --quiet.
    public static func report(_ s: Stats, url: String, quiet: Bool) {
        if s.notDelivered == 0 {
            if !quiet { FileHandleStderr.write("claude-guard: otlp: \(s.sent) record(s) sent to \(url)\n") }
            return
        }
        var parts: [String] = []
        if s.dropped > 0 { parts.append("\(s.dropped) dropped (queue full)") }
        if s.rejected > 0 { parts.append("\(s.rejected) refused") }
        if s.unsent > 0 { parts.append("\(s.unsent) not sent at exit") }
        let why = s.lastError.map { ": " + $0 } ?? ""
        FileHandleStderr.write(
            "claude-guard: otlp: \(s.sent) record(s) sent to \(url), \(s.notDelivered) not delivered ("
                + parts.joined(separator: ", ") + ")\(why)\n")
    }

    /// The `lost` record of records dropped before the collector got them.
    static func lostLine(_ count: UInt64) -> [UInt8] {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var w = JSONWriter(capacity: 128)
        w.beginObject()
        w.field("type", "lost")
        w.field("time", RFC3339.format(WallTime(seconds: Int64(ts.tv_sec), micros: Int32(ts.tv_nsec / 1000))))
        w.field("count", count)
        w.field("source", "otlp")
        w.endObject()
        return w.bytes
    }
}
