#if canImport(Glibc)
    import Glibc
#endif

/// Checks, before anything is loaded, that this process may use BPF and signal the tree.
enum Privileges {
    static let capSysAdmin = 21
    static let capPerfmon = 38
    static let capBPF = 39

    /// - Throws: `GuardError.missingPrivileges` or `.btfUnavailable`.
    static func check(btfPath: String) throws {
        let euid = geteuid()
        if euid != 0 {
            let caps = effectiveCapabilities()
            let has = { (cap: Int) in caps & (UInt64(1) << UInt64(cap)) != 0 }
            if !(has(capSysAdmin) || (has(capBPF) && has(capPerfmon))) {
                throw GuardError.missingPrivileges(euid: euid)
            }
        }
        if access(btfPath, R_OK) != 0 { throw GuardError.btfUnavailable(path: btfPath) }
    }

    /// CapEff of this process from /proc/self/status.
    static func effectiveCapabilities() -> UInt64 {
        guard let status = ProcFS.read("/proc/self/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).trimmingCharacters()
            return UInt64(hex, radix: 16) ?? 0
        }
        return 0
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(
            self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
        )
    }
}
