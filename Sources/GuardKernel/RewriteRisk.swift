import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// What can rewrite a judged argv before the program reads it (issue 12, class 3): a tracer at the exec stop
/// (`settings.traced_exec`) and a preload or audit library from outside the system's library directories
/// (`settings.preload`). Judged only for programs some rule names: a program no rule names runs whatever its
/// argv says, and what it execs or does to files is judged on its own.
extension Enforcer {
    /// The verdict an exec's rewrite risk asks for (the stronger of the two settings that apply), or nil.
    func rewriteRisk(_ e: ExecEvent, commandLine: String, path: String, identities: [String]) -> Verdict? {
        // The guard's own job-control tracer only continues its tracees (jobtrace.c).
        let traced = e.traced && !(e.held && bpf.tracedByJobTracer(e.pid))
        guard traced || !e.loaderEnv.isEmpty || e.loaderEnvCut else { return nil }
        guard policy.programVerdict(path: path, identities: identities) != .pass else { return nil }
        var risk: Verdict?
        if traced && policy.tracedExec != .allow {
            risk = Verdict(
                action: policy.tracedExec, rule: "settings.traced_exec", severity: .high, matched: commandLine,
                description: "exec while traced: the tracer can rewrite the argv the guard judged")
        }
        if policy.preload != .allow, policy.preload > (risk?.action ?? .allow) {
            let libs = Self.librariesOutside(e)
            if !libs.isEmpty {
                risk = Verdict(
                    action: policy.preload, rule: "settings.preload", severity: .high, matched: commandLine,
                    description: "preload or audit library outside the system's library directories: "
                        + libs.joined(separator: ", "))
            }
        }
        return risk
    }

    /// The LD_PRELOAD/LD_AUDIT libraries of an exec from outside the system's library directories, resolved as
    /// the process sees them (its root; relative names are outside anyway). When the kernel could not read them
    /// all, they are read from /proc/PID/environ while the process is held; failing that, the answer is that
    /// something unknown is preloaded (fail closed).
    static func librariesOutside(_ e: ExecEvent) -> [String] {
        var entries = e.loaderEnv.map { String(decoding: $0, as: UTF8.self) }
        var environ: [String]? = nil
        if e.loaderEnvCut || !e.loaderEnv.isEmpty {
            environ =
                (ProcFS.readBytes("/proc/\(e.pid)/environ", limit: maxArgvBytes).map {
                    $0.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                })
        }
        if e.loaderEnvCut {
            guard let environ, e.held else { return ["(environment not read whole)"] }
            entries = environ.filter { $0.hasPrefix("LD_PRELOAD=") || $0.hasPrefix("LD_AUDIT=") }
        }
        let libraryPath = environ?.last { $0.hasPrefix("LD_LIBRARY_PATH=") }.map { String($0.dropFirst(16)) }
        return LoaderLibraries.outside(LoaderLibraries.names(entries), libraryPath: libraryPath) { name in
            let seen = processPath(name, pid: e.pid)
            guard let real = realPath(seen) else { return nil }
            var st = stat()
            guard stat(real, &st) == 0 else { return nil }
            return LoaderLibraries.Found(
                realPath: real, rootOwnedReadOnly: st.st_uid == 0 && st.st_mode & 0o022 == 0)
        }
    }
}
