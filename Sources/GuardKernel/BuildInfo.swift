import CBPF
import GuardCore

/// What `claude-guard --version` reports: the version, the BPF object compiled into this binary (its size and a
/// build id, FNV-1a 64 of its bytes: two binaries with the same id load the same kernel programs) and libbpf's
/// version as linked.
public enum BuildInfo {
    public static var text: String {
        var size = 0
        let id: String
        if let bytes = cg_bpf_object_bytes(&size) {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in UnsafeRawBufferPointer(start: bytes, count: size) { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            id = String(hash, radix: 16).leftPadded(to: 16)
        } else {
            id = "unknown"
        }
        let libbpf = cg_libbpf_version().map { String(cString: $0) } ?? "unknown"
        return """
            claude-guard \(Version.number)
            BPF object: claude_guard.bpf.o, \(size) bytes, build id \(id)
            libbpf: \(libbpf)
            """
    }
}

extension String {
    fileprivate func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
