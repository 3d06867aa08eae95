import CZlib

/// Streaming decoder of `content-encoding: gzip` and `deflate` bodies: zlib's inflate, fed as bytes arrive.
///
/// The one place that holds a `z_stream`: it lives at a fixed address (zlib keeps pointers into it) from the
/// first byte to `deinit`. `deflate` is the zlib format by the RFC, but some servers send raw deflate; the
/// first two bytes tell which. Output is bounded (`limit`) so a small compressed body cannot make the guard
/// allocate without end.
final class Inflater {
    enum Format: Sendable {
        case gzip
        case deflate
    }

    private let format: Format
    private let stream: UnsafeMutablePointer<z_stream>
    private var started = false
    /// The stream ended (Z_STREAM_END) or could not be decoded: further input is ignored.
    private(set) var finished = false
    /// Decoding failed (corrupt data); what was decoded before stays valid.
    private(set) var failed = false
    /// Output stopped at the limit.
    private(set) var truncated = false
    private var produced = 0
    /// Bytes received before the format could be told.
    private var held: [UInt8] = []
    private let limit: Int

    init(format: Format, limit: Int = 8 << 20) {
        self.format = format
        self.limit = limit
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if started { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Decodes the next bytes of the body; returns the plain bytes they complete (possibly none).
    func decode(_ input: [UInt8]) -> [UInt8] {
        guard !finished, !input.isEmpty else { return [] }
        var input = input
        if !started {
            // deflate's two header bytes decide the format: wait for both.
            if format == .deflate && held.count + input.count < 2 {
                held += input
                return []
            }
            input = held + input
            held = []
            guard start(first: input) else {
                failed = true
                finished = true
                return []
            }
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 32 << 10)
        input.withUnsafeMutableBufferPointer { inBuf in
            stream.pointee.next_in = inBuf.baseAddress
            stream.pointee.avail_in = uInt(inBuf.count)
            repeat {
                let (rc, have) = chunk.withUnsafeMutableBufferPointer { outBuf -> (Int32, Int) in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = uInt(outBuf.count)
                    let rc = inflate(stream, Z_NO_FLUSH)
                    return (rc, outBuf.count - Int(stream.pointee.avail_out))
                }
                let room = max(0, limit - produced)
                out.append(contentsOf: chunk.prefix(min(have, room)))
                produced += min(have, room)
                if have > room {
                    truncated = true
                    finished = true
                    break
                }
                if rc == Z_STREAM_END {
                    finished = true
                    break
                }
                if rc != Z_OK && rc != Z_BUF_ERROR {
                    failed = true
                    finished = true
                    break
                }
                if rc == Z_BUF_ERROR || (stream.pointee.avail_in == 0 && have < chunk.count) { break }
            } while true
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        return out
    }

    /// inflateInit2 with the window bits of the format (raw deflate when the zlib header is absent).
    private func start(first: [UInt8]) -> Bool {
        let bits: Int32
        switch format {
        case .gzip: bits = 15 + 16
        case .deflate:
            let zlibHeader =
                first.count >= 2 && first[0] & 0x0F == 8 && (UInt16(first[0]) << 8 | UInt16(first[1])) % 31 == 0
            bits = zlibHeader ? 15 : -15
        }
        started = inflateInit2_(stream, bits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        return started
    }
}
