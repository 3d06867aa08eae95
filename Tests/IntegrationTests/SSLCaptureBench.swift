import Foundation
import GuardCore
import GuardKernel
import XCTest

/// The HTTPS capture's cost, run by bench/ssl/run.sh (CG_SSL_BENCH=1; skipped otherwise): bench/ssl/client.py
/// times 1 MiB transfers and small requests on one keep-alive connection to the local test server, with no
/// capture, with the capture following the client (every byte copied, decoded by `HTTPSTraffic` as the session
/// would), and with the capture attached while the client is outside the tree. Rounds interleave the three so a
/// slow minute of the shared machine hits all alike. Prints `BENCH` lines: a markdown table.
final class SSLCaptureBench: XCTestCase {
    private enum Mode: String, CaseIterable {
        case none = "no capture (guard tracking the client)"
        case tracked = "capture, client in the tree"
        case outside = "capture attached, client outside the tree"
    }

    func testHTTPSCaptureCost() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["CG_SSL_BENCH"] == "1" else { throw XCTSkip("a benchmark: bench/ssl/run.sh runs it") }
        if geteuid() != 0 { throw XCTSkip("needs root to load BPF programs") }
        let server = try TLSTestServer()
        let rounds = Int(env["CG_SSL_BENCH_ROUNDS"] ?? "") ?? 7
        let bpf = try BPFGuard(config: KernelConfig())
        let statsWas = (try? String(contentsOfFile: "/proc/sys/kernel/bpf_stats_enabled", encoding: .utf8)) ?? "0\n"
        try? "1\n".write(toFile: "/proc/sys/kernel/bpf_stats_enabled", atomically: false, encoding: .utf8)
        defer { try? statsWas.write(toFile: "/proc/sys/kernel/bpf_stats_enabled", atomically: false, encoding: .utf8) }
        var big: [Mode: [Double]] = [:]
        var small: [Mode: [Double]] = [:]
        var probeNs: [Mode: (ns: UInt64, runs: UInt64)] = [:]
        var captured = 0
        // Exec of a dynamically linked program outside the tree: the loader probe fires for every process.
        let execbench = try Self.execbench()
        var execUs: [Mode: [Double]] = [:]
        for _ in 0..<rounds {
            for mode in Mode.allCases {
                let capture = mode == .none ? nil : try SSLCapture(sharing: bpf)
                var traffic = HTTPSTraffic()
                capture?.onChunk = { chunk in
                    captured += chunk.data.count
                    _ = traffic.feed(chunk)
                }
                let out = try client(server, bpf: bpf, capture: capture, tracked: mode != .outside)
                if mode != .tracked, let us = Self.execMedian(execbench) { execUs[mode, default: []].append(us) }
                big[mode, default: []].append(Self.median(out.big))
                small[mode, default: []].append(Self.median(out.small))
                if capture != nil {
                    let s = Self.programStats()
                    probeNs[mode] = ((probeNs[mode]?.ns ?? 0) + s.ns, (probeNs[mode]?.runs ?? 0) + s.runs)
                }
            }
        }
        let base = Self.median(big[.none] ?? [])
        let baseSmall = Self.median(small[.none] ?? [])
        print(
            "BENCH | client (python3, one connection) | 1 MiB transfer, median ms | ratio | 64 B request, median ms | ratio | BPF run time per probe hit (bpf_stats) |"
        )
        print("BENCH |---|---|---|---|---|---|")
        for mode in Mode.allCases {
            let b = Self.median(big[mode] ?? []), s = Self.median(small[mode] ?? [])
            let probe =
                probeNs[mode].map {
                    $0.runs > 0 ? String(format: "%.2f µs", Double($0.ns) / Double($0.runs) / 1000) : "-"
                } ?? "-"
            print(
                String(
                    format: "BENCH | %@ | %.2f | %.3f | %.3f | %.3f | %@ |", mode.rawValue, b, b / base, s,
                    s / baseSmall, probe))
        }
        let e0 = Self.median(execUs[.none] ?? []), e1 = Self.median(execUs[.outside] ?? [])
        print(
            String(
                format:
                    "BENCH\nBENCH exec of /bin/true outside the tree (fork, exec, wait; median of round medians of 500): %.0f µs without the capture, %.0f µs with it attached (%+.1f µs)",
                e0, e1, e1 - e0))
        print(
            "BENCH rounds: \(rounds) (median of round medians, each round 20 × 1 MiB and 50 small requests); captured \(captured) bytes"
        )
        XCTAssertGreaterThan(captured, 0)
    }

    /// Runs bench/ssl/client.py (tracked or not) while polling both ring buffers; its timings.
    private func client(
        _ server: TLSTestServer, bpf: BPFGuard, capture: SSLCapture?, tracked: Bool
    ) throws
        -> (big: [Double], small: [Double])
    {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/ssl/client.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = [
            "-c", "read _ && exec \"$0\" \"$@\"", Guard.python, script, "127.0.0.1", String(server.port),
            server.cert, "20", String(1 << 20), "50",
        ]
        let gate = Pipe(), out = Pipe()
        p.standardInput = gate
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        if tracked { try bpf.track(p.processIdentifier, root: p.processIdentifier) }
        gate.fileHandleForWriting.write(Data("go\n".utf8))
        while p.isRunning {
            bpf.poll(timeoutMs: 10)
            capture?.consume()
        }
        p.waitUntilExit()
        capture?.consume()
        let json =
            try JSONSerialization.jsonObject(with: out.fileHandleForReading.readDataToEndOfFile()) as? [String: Any]
        return ((json?["big_ms"] as? [Double]) ?? [], (json?["small_ms"] as? [Double]) ?? [])
    }

    /// bench/execbench.c, compiled into a temporary directory.
    private static func execbench() throws -> String {
        let src = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/execbench.c").path
        let out = try Guard.tempDir().appendingPathComponent("execbench").path
        let r = try Guard.exec("/usr/bin/cc", ["-O2", "-o", out, src])
        guard r.status == 0 else { throw XCTSkip("cannot build execbench: \(r.stderr)") }
        return out
    }

    /// Median µs of 500 execs of /bin/true by execbench.
    private static func execMedian(_ execbench: String) -> Double? {
        guard let r = try? Guard.exec(execbench, ["count", "500", "/bin/true"]),
            let json = try? JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any]
        else { return nil }
        return (json["median_us"] as? Double) ?? (json["median"] as? Double)
    }

    /// Run time and runs of the loaded capture programs (names start with ssl_), from bpftool.
    private static func programStats() -> (ns: UInt64, runs: UInt64) {
        guard let r = try? Guard.exec("/usr/sbin/bpftool", ["prog", "show", "-j"]),
            let progs = try? JSONSerialization.jsonObject(with: r.stdoutData) as? [[String: Any]]
        else { return (0, 0) }
        var ns: UInt64 = 0, runs: UInt64 = 0
        for p in progs where (p["name"] as? String)?.hasPrefix("ssl_") == true {
            ns += UInt64((p["run_time_ns"] as? Int) ?? 0)
            runs += UInt64((p["run_cnt"] as? Int) ?? 0)
        }
        return (ns, runs)
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? 0 : s[s.count / 2]
    }
}
