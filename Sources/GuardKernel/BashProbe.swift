import CBPF
import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Interactive bash: the readline return probe (bpf/claude_guard_bash.bpf.h) attached to every bash the tree
/// runs, and the notice for the shells that have no readline to probe.
///
/// A bash is an ELF file that defines `shell_version_string`. Debian's bash links readline statically (the
/// symbol is in the executable); a bash built against the shared libreadline gets the probe on the
/// libreadline it maps. Either way the kernel reports only processes whose executable is a bash found here
/// (the `bash_exes` map): a Python REPL calls the same shared readline. Files are looked at once (by device
/// and inode): the system's bash at start, then each executable the tree execs, before the held exec is let
/// run, so a new bash is probed before it reads its first line.
///
/// Not thread-safe: one thread polls and handles records, as `BPFGuard`.
final class BashProbe {
    private let bash: OpaquePointer
    /// Files looked at (bash executables, libraries attached, or neither).
    private var seen: Set<SSLCapture.FileKey> = []
    /// Where the probe is attached, and the bash executables it reports for.
    private(set) var attached: [String] = []
    private(set) var shells: [String] = []
    /// Shells without readline the tree ran, said once each (a notice for the session).
    var onNotice: (String) -> Void = { _ in }
    private var noticed: Set<String> = []

    /// What bash defines and what is probed in it.
    static let marker = "shell_version_string"
    static let function = "readline"
    /// Where a distribution keeps bash (attached at start).
    static let systemShells = ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"]
    /// Shells that read lines without readline: what is typed into them is not seen, only what they exec.
    static let withoutReadline = ["dash", "ash", "busybox", "sh", "mksh", "ksh", "posh", "yash"]

    /// The probe of `guardBPF`'s object, attached to the system's bash; nil when it was not loaded (-B).
    ///
    /// - Throws: `GuardError.system` when the probe cannot be attached to the system's bash.
    init?(guardBPF: BPFGuard) throws {
        var handle: OpaquePointer?
        guard cg_bash_open(guardBPF.bpf, &handle) == 0, let handle else { return nil }
        bash = handle
        for path in Self.systemShells { try consider(path, pid: nil) }
        // A bash linked against the shared libreadline has not mapped it when its exec is reported.
        for dir in SSLCapture.libraryDirectories {
            for name in ProcFS.entries(of: dir) where name.hasPrefix("libreadline.so") {
                try attachLibrary(dir + "/" + name, shown: dir + "/" + name)
            }
        }
    }

    deinit { cg_bash_destroy(bash) }

    /// A process of the tree (seeded at start): its executable, if it is a bash.
    func discover(pid: Int32) {
        try? consider("/proc/\(pid)/exe", pid: pid)
    }

    /// An exec of the tree: the new executable, if it is a bash; a shell without readline is said once.
    func execed(_ e: ExecEvent) {
        guard case .exec = e.kind else { return }
        do { try consider("/proc/\(e.pid)/exe", pid: e.pid) } catch { onNotice("\(error)") }
        let name = String(decoding: e.path.split(separator: UInt8(ascii: "/")).last ?? [], as: UTF8.self)
        if Self.withoutReadline.contains(name), Self.interactive(e.argvStrings), noticed.insert(name).inserted {
            onNotice(
                "pid \(e.pid) runs \(name), which has no readline: lines typed into it are not seen (only the "
                    + "programs it runs are); use bash for an interactive shell under guard")
        }
    }

    /// Whether a shell's argv reads commands from its input (`-i`, `-s`, or no script and no `-c`).
    static func interactive(_ argv: [String]) -> Bool {
        let args = argv.dropFirst()
        if args.contains(where: { $0.hasPrefix("-") && !$0.hasPrefix("--") && ($0.contains("i") || $0.contains("s")) }) {
            return true
        }
        return !args.contains { !$0.hasPrefix("-") || $0 == "-c" }
    }

    /// Looks at the file at path once: a bash is named to the kernel and probed (in itself, or in the shared
    /// libreadline process `pid` maps).
    ///
    /// - Throws: `GuardError.system` when the probe cannot be attached to a bash.
    private func consider(_ path: String, pid: Int32?) throws {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return }
        let key = SSLCapture.FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
        guard seen.insert(key).inserted else { return }
        let offsets = SSLCapture.offsets(of: [Self.marker, Self.function], in: path)
        guard offsets[0] != 0 else { return }
        let shown = realPath(path) ?? path
        var err = cg_bash_add_exe(bash, key.dev, key.ino)
        if err != 0 { throw GuardError.system(what: "name \(shown) to the readline probe", errno: -err) }
        shells.append(shown)
        if offsets[1] != 0 {
            err = path.withCString { cg_bash_attach(bash, $0, offsets[1]) }
            if err != 0 { throw GuardError.system(what: "attach the readline probe to \(shown)", errno: -err) }
            attached.append(shown)
            return
        }
        // readline in a shared library: the one this process maps (a bash not running yet maps none).
        guard let pid else { return }
        for lib in Self.mappedLibraries(pid: pid) where lib.contains("libreadline") {
            try attachLibrary("/proc/\(pid)/root" + lib, shown: lib)
        }
    }

    /// Probes readline in a shared library, once per file.
    private func attachLibrary(_ path: String, shown: String) throws {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
            seen.insert(SSLCapture.FileKey(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))).inserted
        else { return }
        let offset = SSLCapture.offsets(of: [Self.function], in: path)[0]
        guard offset != 0 else { return }
        let err = path.withCString { cg_bash_attach(bash, $0, offset) }
        if err != 0 { throw GuardError.system(what: "attach the readline probe to \(shown)", errno: -err) }
        attached.append(shown)
    }

    /// The files a process maps, as its maps list them.
    static func mappedLibraries(pid: Int32) -> [String] {
        guard let maps = ProcFS.read("/proc/\(pid)/maps") else { return [] }
        var out: [String] = []
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            if !out.contains(path) { out.append(path) }
        }
        return out
    }
}
