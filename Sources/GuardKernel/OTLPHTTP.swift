import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 POST over a plain socket, for the OTLP exporter's thread.
///
/// Not URLSession: on Linux FoundationNetworking brings libcurl into the binary (the toolchain has no static
/// libcurl for the static release build) and its own threads, while the exporter needs only a POST to a
/// collector on the host or the local network with a hard deadline on every step (connect, write, read), which a
/// non-blocking socket and poll(2) give exactly. TLS is left to the Collector (`OTLPConfigError.tlsUnsupported`).
enum OTLPHTTP {
    /// What came of a POST.
    enum Outcome: Equatable {
        /// The server answered: its status, Retry-After in seconds when given, and the body.
        case response(status: Int, retryAfter: Double?, body: [UInt8])
        /// No answer: refused, unreachable, reset, or the deadline passed.
        case failed(String)
    }

    /// POSTs `body` and reads the answer, all before `deadlineNs` (CLOCK_MONOTONIC).
    static func post(
        host: String, port: UInt16, path: String, headers: [(String, String)], body: [UInt8], deadlineNs: Int64
    ) -> Outcome {
        let fd: Int32
        switch connect(host: host, port: port, deadlineNs: deadlineNs) {
        case .success(let s): fd = s
        case .failure(let why): return .failed(why.message)
        }
        defer { close(fd) }
        var request = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\n"
        request += "Connection: close\r\nUser-Agent: claude-guard/\(Version.number)\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        request += "\r\n"
        guard write(fd, Array(request.utf8) + body, deadlineNs: deadlineNs) else {
            return .failed("sending to \(host):\(port) failed: \(lastError())")
        }
        var answer: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16 << 10)
        let limit = 1 << 20
        while answer.count < limit {
            if let head = headEnd(answer), let length = contentLength(answer[..<head]),
                answer.count - head >= length
            {
                break
            }
            guard wait(fd, for: Int16(POLLIN), deadlineNs: deadlineNs) else {
                return .failed("no answer from \(host):\(port) in time")
            }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failed("reading from \(host):\(port) failed: \(lastError())")
            }
            answer += buf[0..<n]
        }
        return parse(answer) ?? .failed("\(host):\(port) did not answer HTTP")
    }

    /// Status, Retry-After and body of a response (nil when it is not HTTP).
    static func parse(_ answer: [UInt8]) -> Outcome? {
        guard let head = headEnd(answer) else { return nil }
        let lines = String(decoding: answer[..<head], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/"),
            let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        var retryAfter: Double? = nil
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "retry-after" {
                // Seconds; an HTTP date is not worth parsing here (the backoff applies instead).
                retryAfter = Double(line[line.index(after: colon)...].trimmed())
            }
        }
        return .response(status: status, retryAfter: retryAfter, body: Array(answer[head...]))
    }

    /// Index just past the blank line that ends the header.
    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    static func contentLength(_ head: ArraySlice<UInt8>) -> Int? {
        for line in String(decoding: head, as: UTF8.self).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-length" else {
                continue
            }
            return Int(line[line.index(after: colon)...].trimmed())
        }
        return nil
    }

    struct Failure: Error { let message: String }

    /// A connected non-blocking socket to the first address of `host` that answers.
    private static func connect(host: String, port: UInt16, deadlineNs: Int64) -> Result<Int32, Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            return .failure(Failure(message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(first) }
        var why = "no address for \(host)"
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            ai = a.pointee.ai_next
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let fd = socket(a.pointee.ai_family, type, 0)
            if fd < 0 { continue }
            if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return .success(fd) }
            if errno == EINPROGRESS, wait(fd, for: Int16(POLLOUT), deadlineNs: deadlineNs) {
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if err == 0 { return .success(fd) }
                errno = err
            } else if errno == EINPROGRESS {
                errno = ETIMEDOUT
            }
            why = "cannot connect to \(host):\(port): \(lastError())"
            close(fd)
        }
        return .failure(Failure(message: why))
    }

    private static func write(_ fd: Int32, _ bytes: [UInt8], deadlineNs: Int64) -> Bool {
        var at = 0
        while at < bytes.count {
            let n = bytes.withUnsafeBytes { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return send(fd, base + at, b.count - at, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                at += n
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                guard wait(fd, for: Int16(POLLOUT), deadlineNs: deadlineNs) else {
                    errno = ETIMEDOUT
                    return false
                }
            } else {
                return false
            }
        }
        return true
    }

    /// Waits until the socket is ready for `events` or the deadline passes.
    private static func wait(_ fd: Int32, for events: Int16, deadlineNs: Int64) -> Bool {
        while true {
            let left = (deadlineNs - BPFGuard.clockNs(CLOCK_MONOTONIC)) / 1_000_000
            if left <= 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, Int32(min(left, 60_000)))
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return false }
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmed() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
