#if canImport(Glibc)
    import Glibc
#endif

/// What the command line says on stderr (errors, warnings): written at once, unbuffered.
enum Stderr {
    static func write(_ s: String) { writeAll(2, Array(s.utf8)) }
}

/// Writes every byte to a file descriptor, retrying short writes.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { writeAll(fd, $0) }
}

func writeAll(_ fd: Int32, _ buf: UnsafeBufferPointer<UInt8>) {
    guard let base = buf.baseAddress else { return }
    var off = 0
    while off < buf.count {
        let n = write(fd, base + off, buf.count - off)
        if n <= 0 {
            if n < 0 && errno == EINTR { continue }
            return
        }
        off += n
    }
}
