#if canImport(Glibc)
    import Glibc
#endif

/// What makes an ELF executable recognisably one program when its file is not byte for byte the same: its GNU
/// build-id (the linker's hash of the program, in a PT_NOTE segment) and its executable segment (the first
/// PT_LOAD with PF_X: the machine code).
///
/// A copy with bytes appended, or with its data or strings patched, keeps both; one whose build-id note was
/// patched or stripped keeps its code. A rebuilt, relinked or packed program, or one whose code differs in a
/// single byte, is a different program (see README, Threat model).
struct ElfIdentity: Equatable {
    /// The NT_GNU_BUILD_ID descriptor (usually 20 bytes of SHA-1), when the file has one.
    var buildID: [UInt8]?
    /// File offset and size of the executable segment, when it has one.
    var codeOffset = 0
    var codeSize = 0

    static let maxHeaders = 512
    static let maxNotes = 1 << 16

    /// Reads the ELF headers of an open file; nil when it is not ELF (a script) or its headers do not parse.
    static func read(fd: Int32) -> ElfIdentity? {
        guard let h = ElfReader(fd: fd, offset: 0, count: 64), h.count >= 52, h.bytes[0] == 0x7F, h.bytes[1] == 0x45,
            h.bytes[2] == 0x4C, h.bytes[3] == 0x46
        else { return nil }
        let wide = h.bytes[4] == 2
        let big = h.bytes[5] == 2
        guard h.count >= (wide ? 64 : 52) else { return nil }
        let phoff = wide ? h.int(32, 8, big) : h.int(28, 4, big)
        let phentsize = h.int(wide ? 54 : 42, 2, big)
        let phnum = h.int(wide ? 56 : 44, 2, big)
        guard phnum > 0, phnum <= maxHeaders, phentsize >= (wide ? 56 : 32),
            let ph = ElfReader(fd: fd, offset: phoff, count: phnum * phentsize), ph.count == phnum * phentsize
        else { return nil }
        var id = ElfIdentity()
        for k in 0..<phnum {
            let base = k * phentsize
            let type = ph.int(base, 4, big)
            let flags = wide ? ph.int(base + 4, 4, big) : ph.int(base + 24, 4, big)
            let offset = wide ? ph.int(base + 8, 8, big) : ph.int(base + 4, 4, big)
            let size = wide ? ph.int(base + 32, 8, big) : ph.int(base + 16, 4, big)
            let align = wide ? ph.int(base + 48, 8, big) : ph.int(base + 28, 4, big)
            if type == 1, flags & 1 != 0, size > 0, id.codeSize == 0 {  // PT_LOAD, PF_X
                id.codeOffset = offset
                id.codeSize = size
            } else if type == 4, id.buildID == nil, size > 0, size <= maxNotes {  // PT_NOTE
                id.buildID = buildID(fd: fd, offset: offset, size: size, align: align == 8 ? 8 : 4, big: big)
            }
        }
        return id.buildID == nil && id.codeSize == 0 ? nil : id
    }

    /// The NT_GNU_BUILD_ID note of one PT_NOTE segment, if it holds one.
    private static func buildID(fd: Int32, offset: Int, size: Int, align: Int, big: Bool) -> [UInt8]? {
        guard let n = ElfReader(fd: fd, offset: offset, count: size) else { return nil }
        func up(_ x: Int) -> Int { (x + align - 1) / align * align }
        var at = 0
        while at + 12 <= n.count {
            let namesz = n.int(at, 4, big), descsz = n.int(at + 4, 4, big), type = n.int(at + 8, 4, big)
            let name = at + 12
            let desc = name + up(namesz)
            guard namesz <= n.count, descsz <= n.count, desc + descsz <= n.count else { return nil }
            // "GNU\0", NT_GNU_BUILD_ID
            if type == 3, namesz == 4, n.bytes[name] == 0x47, n.bytes[name + 1] == 0x4E, n.bytes[name + 2] == 0x55,
                descsz > 0
            {
                return Array(n.bytes[desc..<(desc + descsz)])
            }
            at = desc + up(descsz)
        }
        return nil
    }

    /// Whether the executable segments of two files (at these identities) hold the same bytes.
    static func sameCode(_ a: Int32, _ ia: ElfIdentity, _ b: Int32, _ ib: ElfIdentity) -> Bool {
        guard ia.codeSize > 0, ia.codeSize == ib.codeSize else { return false }
        let chunk = 1 << 16
        var done = 0
        while done < ia.codeSize {
            let n = min(chunk, ia.codeSize - done)
            guard let x = ElfReader(fd: a, offset: ia.codeOffset + done, count: n), x.count == n,
                let y = ElfReader(fd: b, offset: ib.codeOffset + done, count: n), y.count == n, x.bytes == y.bytes
            else { return false }
            done += n
        }
        return true
    }
}

/// Bytes read at a file offset, with the integer readers the ELF headers need.
private struct ElfReader {
    var bytes: [UInt8]
    var count: Int { bytes.count }

    init?(fd: Int32, offset: Int, count: Int) {
        guard offset >= 0, count >= 0 else { return nil }
        var buf = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buf.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return -1 }
                return pread(fd, base + got, count - got, off_t(offset + got))
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        guard got > 0 || count == 0 else { return nil }
        bytes = Array(buf[0..<got])
    }

    /// An unsigned integer of `size` bytes at `at` (0 when out of range), little- or big-endian.
    func int(_ at: Int, _ size: Int, _ big: Bool) -> Int {
        guard at >= 0, at + size <= bytes.count else { return 0 }
        var v: UInt64 = 0
        for k in 0..<size {
            let b = UInt64(bytes[big ? at + k : at + size - 1 - k])
            v = v << 8 | b
        }
        return v > UInt64(Int.max) ? 0 : Int(v)
    }
}
