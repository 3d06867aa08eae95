import CZlib

/// One-shot gzip (RFC 1952) of an export body, for `Content-Encoding: gzip` (OTEL_EXPORTER_OTLP_COMPRESSION).
///
/// The one place that holds a deflating `z_stream`; it lives on the stack of `compress` only.
public enum Gzip {
    /// The gzip member holding `input`, or nil when zlib fails (out of memory): the caller sends it plain.
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        let gzipWindowBits: Int32 = 15 + 16
        let memLevel: Int32 = 8
        guard
            deflateInit2_(
                &stream, level, Z_DEFLATED, gzipWindowBits, memLevel, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        let result = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { return nil }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}
