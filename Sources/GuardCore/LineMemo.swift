#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The per-run line memo of `check --file`: a hand-written open-addressing table over two byte arenas, kept in
/// this one file so its unsafe buffer code can be read whole.
extension PolicyTool {
    /// Distinct lines of one `check --file` run and their rendered verdicts (all but a JSON line number), in
    /// two byte arenas under an open-addressing table; stops growing past `maxBytes`.
    struct LineMemo {
        struct Entry {
            var hash: UInt64
            var keyStart: Int
            var keyCount: Int
            var outStart: Int
            var outCount: Int
            var acted: Bool
        }
        static let maxBytes = 256 << 20
        var slots = [Int32](repeating: -1, count: 1 << 12)
        var entries: [Entry] = []
        var keys: [UInt8] = []
        var outs: [UInt8] = []

        @inline(__always)
        static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
            let n = b.count
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
            guard let p = b.baseAddress else { return h }
            let raw = UnsafeRawPointer(p)
            var i = 0
            while i + 8 <= n {
                h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 32
                i += 8
            }
            var w: UInt64 = 0
            while i < n {
                w = w << 8 | UInt64(p[i])
                i += 1
            }
            h = (h ^ w) &* 0xC4CE_B9FE_1A85_EC53
            return h ^ (h >> 29)
        }

        func find(_ key: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int? {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: h) & mask
            return slots.withUnsafeBufferPointer { sl in
                entries.withUnsafeBufferPointer { en in
                    keys.withUnsafeBufferPointer { kb in
                        while true {
                            let j = Int(sl[i])
                            if j < 0 { return nil }
                            let e = en[j]
                            if e.hash == h && e.keyCount == key.count
                                && (key.count == 0 || Self.same(kb, at: e.keyStart, key))
                            {
                                return j
                            }
                            i = (i + 1) & mask
                        }
                    }
                }
            }
        }

        /// Whether the arena holds key's bytes at start (memcmp: the arena is checked to hold them).
        @inline(__always)
        static func same(_ arena: UnsafeBufferPointer<UInt8>, at start: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool
        {
            guard let a = arena.baseAddress, let k = key.baseAddress, start + key.count <= arena.count else {
                return false
            }
            return memcmp(a + start, k, key.count) == 0
        }

        @inline(__always)
        func appendOutput(_ i: Int, into out: inout [UInt8]) {
            let e = entries[i]
            outs.withUnsafeBufferPointer {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[e.outStart..<e.outStart + e.outCount]))
            }
        }

        mutating func insert(
            _ key: UnsafeBufferPointer<UInt8>, hash h: UInt64, output: [UInt8], from mark: Int, acted: Bool
        ) {
            if keys.count + outs.count > LineMemo.maxBytes { return }
            let e = Entry(
                hash: h, keyStart: keys.count, keyCount: key.count, outStart: outs.count,
                outCount: output.count - mark, acted: acted)
            keys.append(contentsOf: key)
            output.withUnsafeBufferPointer { outs.append(contentsOf: UnsafeBufferPointer(rebasing: $0[mark...])) }
            entries.append(e)
            if entries.count * 2 > slots.count {
                slots = [Int32](repeating: -1, count: slots.count * 2)
                for k in entries.indices { place(k) }
            } else {
                place(entries.count - 1)
            }
        }

        private mutating func place(_ k: Int) {
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: entries[k].hash) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(k)
        }
    }
}
