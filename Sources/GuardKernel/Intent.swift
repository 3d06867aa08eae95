import GuardCore

#if canImport(Glibc)
    import Glibc
#endif

/// Intent next to action (issues 15 and 16): the tree's HTTPS plaintext decoded into the model's tool uses,
/// the tool uses the Claude Code hook announces, and the link from each to the exec that runs it and to that
/// exec's whole subtree.
final class Intent {
    private(set) var ssl: SSLCapture?
    private var traffic: HTTPSTraffic
    private var linker = ExecLinker()
    private var hookLink: HookLink?
    /// Traffic events decoded and not yet written.
    private var pending: [TrafficEvent] = []
    /// Start-up warnings (capture that could not be set up).
    private(set) var notes: [String] = []

    /// - Parameter capture: attach the SSL probes (-S turns them off).
    init(guardBPF: BPFGuard, btfPath: String?, capture: Bool, captureBodies: Bool) {
        traffic = HTTPSTraffic(options: TrafficOptions(captureBodies: captureBodies))
        guard capture else { return }
        do {
            let s = try SSLCapture(sharing: guardBPF, btfPath: btfPath)
            notes += s.notes
            s.onChunk = { [unowned self] chunk in self.chunk(chunk) }
            ssl = s
        } catch {
            notes.append("HTTPS capture is off: \(error)")
        }
    }

    /// Listens for the hook's announcements of the agent whose uid runs `agentPid`.
    func startHookLink(agentPid: Int32, quiet: Bool) {
        hookLink = HookLink.start(agentUID: HookLink.uid(of: agentPid) ?? getuid(), quiet: quiet)
    }

    /// A process of the tree that existed before attach: its TLS library is found now.
    func discover(pid: Int32) { ssl?.discover(pid: pid) }

    private func chunk(_ c: SSLChunk) {
        for event in traffic.feed(c) {
            if case .llm(let l) = event, let use = l.toolUse {
                _ = linker.expect(use, agent: l.source.pid, root: l.source.root, monotonicNs: l.monotonicNs)
            }
            pending.append(event)
        }
    }

    /// What arrived since the last look: decoded traffic and the hook's announcements.
    func poll(nowNs: UInt64) {
        _ = ssl?.consume()
        for use in hookLink?.poll() ?? [] { _ = linker.expect(use, agent: nil, monotonicNs: nowNs) }
    }

    /// Before an exec is judged: the tool uses decoded or announced so far, then the one it runs or descends
    /// from. A new executable is attached while a held exec waits.
    func exec(_ e: ExecEvent) -> String? {
        poll(nowNs: e.monotonicNs)
        ssl?.execed(e)
        return linker.exec(
            pid: e.pid, ppid: e.ppid, root: e.root, argv: e.argv, monotonicNs: e.monotonicNs,
            parentOf: { ProcFS.parent(of: $0) })?.id
    }

    /// The tool use a process descends from (a file event's process may never have exec'd in the tree).
    func toolUse(of pid: Int32) -> String? { linker.toolUse(of: pid, parentOf: { ProcFS.parent(of: $0) }) }

    /// A process exited: what it sent and read before comes first; its pid may be reused.
    func exited(_ x: ExitEvent, nowNs: UInt64) {
        _ = ssl?.consume()
        linker.exited(x.pid)
        pending += traffic.processExited(x.pid, time: x.time, monotonicNs: nowNs)
    }

    /// The traffic events not yet written, in order.
    func take() -> [TrafficEvent] {
        defer { pending.removeAll() }
        return pending
    }

    /// SSL records the kernel could not submit since the last call.
    func newlyLost() -> UInt64 { ssl?.newlyLost() ?? 0 }
}
