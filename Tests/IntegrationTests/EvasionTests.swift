import Foundation
import GuardCore
import GuardKernel
import XCTest

/// Red-team classes of issue 12 (points 1, 2, 5, 9) and issue 14 point 7 on the real kernel: each way to get
/// `rm -rf VICTIM` run past the guard must leave the victim intact, and everyday commands must raise nothing.
final class EvasionTests: XCTestCase {
    static let policy = Guard.testPolicy(
        "evasion-test", settings: "  unparsable: alert",
        rules: Guard.rmRecursiveForce + """

              - id: git-clean-force
                match: { command: git, args: [clean], flags: [f|force] }
                action: kill
            """)

    static let loader = "/lib64/ld-linux-x86-64.so.2"

    var dir: URL!
    var policyPath: String!

    override func setUpWithError() throws {
        (dir, policyPath) = try Guard.policyDir(Self.policy)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func victim() throws -> String { try Guard.victim(in: dir) }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A copy of `source` in the test directory named `name`, executable.
    func copy(_ source: String, as name: String, change: ((inout [UInt8]) -> Void)? = nil) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        change?(&bytes)
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    /// Runs argv under the guard (JSON events on stdout).
    func guarded(_ argv: [String], policy: String? = nil, timeout: TimeInterval = 60) throws -> Guard.Result {
        try Guard.run(
            ["run", "--policy", policy ?? policyPath, "--workspace", dir.path, "--format", "json", "--"] + argv,
            timeout: timeout)
    }

    // MARK: - Runners (issue 12 point 1)

    func testTheDynamicLoaderRunsItsOperandAndIsJudgedAsIt() throws {
        guard exists(Self.loader) else { throw XCTSkip("no \(Self.loader) on this machine") }
        let libc = "/lib/x86_64-linux-gnu/libc.so.6"
        let myld = try copy(Self.loader, as: "myld")
        // Named like a wrapper whose first operand is no program (timeout's is its duration).
        let timeoutLd = try copy(Self.loader, as: "timeout")
        let myrm = try copy("/bin/rm", as: "harmless-tool")
        let forms: [[String]] = [
            [Self.loader, "/bin/rm", "-rf", "V"],
            [Self.loader, "--library-path", "/usr/lib", "--preload", libc, "--inhibit-cache", "/bin/rm", "-rf", "V"],
            [Self.loader, "--audit", libc, "--argv0", "x", "/bin/rm", "-rf", "V"],
            [Self.loader, "--argv0", "rm", "/bin/busybox", "-rf", "V"],
            // A renamed copy of the loader, running a renamed copy of rm: both known by content.
            [myld, myrm, "-rf", "V"],
            [myld, "--argv0", "ls", myrm, "-rf", "V"],
            [timeoutLd, "/bin/rm", "-rf", "V"],
        ]
        for form in forms {
            for viaShell in [false, true] {
                let v = try victim()
                let argv = form.map { $0 == "V" ? v : $0 }
                let r = try guarded(viaShell ? ["bash", "-c", shellJoin(argv)] : Guard.execv(argv))
                Guard.assertKilled(r, v, "\(viaShell ? "bash -c" : "execv") \(argv)")
            }
        }
        // The operand named through the process's own descriptors: the guard opens the process's file, not its own.
        for text in [
            "exec 3</bin/rm; exec \(Self.loader) /proc/self/fd/3 -rf V",
            "exec \(Self.loader) /dev/stdin -rf V </bin/rm",
        ] {
            let v = try victim()
            let r = try guarded(["bash", "-c", text.replacingOccurrences(of: "V", with: v)])
            Guard.assertKilled(r, v, text)
        }
        // An allowed program still runs through the loader.
        let ok = try guarded(Guard.execv([Self.loader, "/bin/echo", "loaded-ok"]))
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("loaded-ok\n"), ok.stdout)
    }

    func testValgrindRunsItsOperand() throws {
        guard exists("/usr/bin/valgrind") else { throw XCTSkip("valgrind is not installed (make setup installs it)") }
        _ = try copy("/bin/rm", as: "tidy")
        for argv in [
            ["/usr/bin/valgrind", "-q", "--tool=none", "/bin/rm", "-rf", "V"],
            ["/usr/bin/valgrind", "-q", "--tool=none", "--trace-children=no", "--", "rm", "-rf", "V"],
            // A renamed rm found over the process's PATH, which the guard's is not.
            ["/usr/bin/env", "PATH=\(dir.path):/usr/bin:/bin", "valgrind", "-q", "--tool=none", "tidy", "-rf", "V"],
        ] {
            for viaShell in [false, true] {
                let v = try victim()
                let real = argv.map { $0 == "V" ? v : $0 }
                let r = try guarded(viaShell ? ["bash", "-c", shellJoin(real)] : Guard.execv(real), timeout: 120)
                Guard.assertKilled(r, v, "valgrind \(real)")
            }
        }
    }

    func testQemuUserRunsItsOperand() throws {
        guard exists("/usr/bin/qemu-x86_64") else {
            throw XCTSkip("qemu-user is not installed (make setup installs it)")
        }
        let myqemu = try copy("/usr/bin/qemu-x86_64", as: "emu")
        for argv in [
            ["/usr/bin/qemu-x86_64", "/bin/rm", "-rf", "V"],
            ["/usr/bin/qemu-x86_64", "-L", "/", "-cpu", "max", "-0", "rm", "/bin/busybox", "-rf", "V"],
            [myqemu, "--strace", "/bin/rm", "-rf", "V"],
        ] {
            let v = try victim()
            let real = argv.map { $0 == "V" ? v : $0 }
            let r = try guarded(Guard.execv(real), timeout: 120)
            Guard.assertKilled(r, v, "qemu \(real)")
        }
        // QEMU_ARGV0 in its environment is -0: busybox then runs that applet.
        let v = try victim()
        let r = try guarded(["bash", "-c", "QEMU_ARGV0=rm exec /usr/bin/qemu-x86_64 /bin/busybox -rf \(v)"])
        Guard.assertKilled(r, v, "QEMU_ARGV0=rm qemu-x86_64 /bin/busybox -rf V")
    }

    // MARK: - Argv past the kernel's copy (issue 12 point 2)

    func testAnArgvLongerThanTheKernelCopiesIsJudgedWhole() throws {
        // 20 KiB of harmless operands (files that do not exist) before -rf VICTIM: past the 16 KiB copy.
        let harmless = (0..<700).map { String(format: "/nonexistent/harmless-operand-%05d", $0) }
        XCTAssertGreaterThan(harmless.joined(separator: " ").utf8.count, 20 << 10)
        let v = try victim()
        let r = try guarded(Guard.execv(["/bin/rm"] + harmless + ["-rf", v]))
        Guard.assertKilled(r, v, "rm <20 KiB> -rf V")
        let events = Guard.jsonLines(r.stdout).filter { ($0["path"] as? String)?.hasSuffix("/rm") == true }
        XCTAssertTrue(
            events.contains { $0["truncated"] as? Bool == true }, "rm's argv was not cut: \(r.stdout.prefix(500))")
        // The same harmless operands without -rf: allowed (rm fails on the missing files, nothing is recorded).
        let ok = try guarded(Guard.execv(["/bin/rm", "-f"] + harmless + [v + "/nothing-here"]))
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(exists(v + "/file"))
    }

    // MARK: - Identity that outlives a change (issue 12 point 5)

    func testCopiesWithBytesAppendedOrPatchedAreStillTheProgram() throws {
        // rm with one byte appended: another size, the same build-id.
        let rmPlus = try copy("/bin/rm", as: "tidy") { $0.append(0x0A) }
        // busybox with a string of its data patched and its build-id zeroed: known by its code. (Named busybox-…:
        // busybox takes its applet from argv[1] only under a name that begins with "busybox".)
        let patched = try copy("/bin/busybox", as: "busybox-patched") { bytes in
            Self.replace(Array("BusyBox v".utf8), with: Array("BuzzBox v".utf8), in: &bytes)
            Self.zeroBuildID(&bytes)
        }
        XCTAssertNotEqual(
            try Data(contentsOf: URL(fileURLWithPath: patched)),
            try Data(contentsOf: URL(fileURLWithPath: "/bin/busybox")))
        for (argv, name) in [([rmPlus, "-rf", "V"], "rm + 1 byte"), ([patched, "rm", "-rf", "V"], "patched busybox")] {
            let v = try victim()
            let real = argv.map { $0 == "V" ? v : $0 }
            let r = try guarded(Guard.execv(real))
            Guard.assertKilled(r, v, name)
        }
        // Run as `rm` through argv[0] (exec -a), a patched busybox is its rm applet.
        let v = try victim()
        let r = try guarded(["bash", "-c", "exec -a rm \(patched) -rf \(v)"])
        Guard.assertKilled(r, v, "exec -a rm patched-busybox")
    }

    /// What the live guard's identity table says of changed copies, directly (and how long it takes to build).
    func testProgramIdentityKnowsChangedCopiesAndRunners() throws {
        let start = Date()
        let ids = ProgramIdentity(names: ["rm", "busybox", "ls"], paths: [], searchPath: nil, runners: true)
        let built = Date().timeIntervalSince(start)
        print("ProgramIdentity with runners: \(ids.targets.count) targets in \(Int(built * 1000)) ms")
        XCTAssertLessThan(built, 0.3)
        XCTAssertTrue(ids.targets.contains { $0.name == "ld-linux-x86-64.so.2" }, "the loader is a target")
        let rmPlus = try copy("/bin/rm", as: "a") { $0.append(0) }
        let bb = try copy("/bin/busybox", as: "b") { bytes in
            Self.replace(Array("BusyBox v".utf8), with: Array("BuzzBox v".utf8), in: &bytes)
            Self.zeroBuildID(&bytes)
        }
        let ld = try copy(Self.loader, as: "c") { $0 += [1, 2, 3] }
        // Code changed in one byte: another program.
        let lsChanged = try copy("/bin/ls", as: "d") { bytes in Self.flipCodeByte(&bytes) }
        XCTAssertEqual(ids.names(ofPath: rmPlus), ["rm"])
        XCTAssertEqual(ids.names(ofPath: bb), ["busybox"])
        XCTAssertTrue(ids.names(ofPath: ld).contains("ld-linux-x86-64.so.2"))
        XCTAssertEqual(ids.names(ofPath: "/bin/ls"), ["ls"])
        XCTAssertEqual(ids.names(ofPath: lsChanged), ["ls"], "the build-id still says ls")
        let lsNoID = try copy("/bin/ls", as: "e") { bytes in
            Self.flipCodeByte(&bytes)
            Self.zeroBuildID(&bytes)
        }
        XCTAssertEqual(ids.names(ofPath: lsNoID), [], "neither build-id nor code is ls's")
    }

    /// Flips one byte in the middle of the file's executable segment (x86-64 ELF: read from its program headers).
    static func flipCodeByte(_ bytes: inout [UInt8]) {
        func int(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let phoff = int(32, 8), phentsize = int(54, 2), phnum = int(56, 2)
        for k in 0..<phnum {
            let h = phoff + k * phentsize
            if int(h, 4) == 1 && int(h + 4, 4) & 1 != 0 {
                bytes[int(h + 8, 8) + int(h + 32, 8) / 2] ^= 0xFF
                return
            }
        }
    }

    static func replace(_ what: [UInt8], with: [UInt8], in bytes: inout [UInt8]) {
        guard what.count == with.count, bytes.count >= what.count else { return }
        for i in 0...(bytes.count - what.count) where bytes[i] == what[0] && Array(bytes[i..<(i + what.count)]) == what
        {
            bytes.replaceSubrange(i..<(i + what.count), with: with)
        }
    }

    /// Zeroes the NT_GNU_BUILD_ID descriptor (namesz 4, descsz 20, type 3, "GNU\0").
    static func zeroBuildID(_ bytes: inout [UInt8]) {
        let header: [UInt8] = [4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 0x47, 0x4E, 0x55, 0]
        for i in 0..<(bytes.count - header.count - 20) where Array(bytes[i..<(i + header.count)]) == header {
            for k in 0..<20 { bytes[i + header.count + k] = 0 }
            return
        }
    }

    // MARK: - Options that imply others (issue 12 point 9)

    func testOptionsThatImplyForceAreForce() throws {
        for s in ["rm -r --interactive=never V", "rm -R --inter=n V", "rm --interactive=none --recursive V"] {
            let v = try victim()
            let r = try guarded(["bash", "-c", s.replacingOccurrences(of: "V", with: v)])
            Guard.assertKilled(r, v, s)
            let w = try victim()
            let words = s.split(separator: " ").dropFirst().map { $0 == "V" ? w : String($0) }
            let direct = try guarded(Guard.execv(["/bin/rm"] + words))
            Guard.assertKilled(direct, w, "execv " + s)
        }
        guard exists("/usr/bin/git") else { throw XCTSkip("git is not installed") }
        let repo = try victim()
        let setup = try Guard.exec("/bin/sh", ["-c", "cd '\(repo)' && git init -q"])
        XCTAssertEqual(setup.status, 0, setup.stderr)
        let r = try guarded(["bash", "-c", "cd '\(repo)' && git -c clean.requireForce=false clean -dxq"])
        Guard.assertKilled(r, repo, "git -c clean.requireForce=false clean")
    }

    // MARK: - No false alarms on shells running scripts (issue 14 point 7)

    func testPythonUnderBashAndThroughShimsRaisesNothing() throws {
        let shims = dir.appendingPathComponent("shims")
        try FileManager.default.createDirectory(at: shims, withIntermediateDirectories: true)
        let shim = shims.appendingPathComponent("python3").path
        try "#!/usr/bin/env bash\nexec /usr/bin/python3 \"$@\"\n".write(toFile: shim, atomically: true, encoding: .utf8)
        chmod(shim, 0o755)
        for argv in [
            ["bash", "-c", "/usr/bin/python3 -c \"print(1)\""],
            ["bash", "-c", "PATH=\(shims.path):$PATH; python3 -c \"print(1)\""],
            ["bash", "-c", "-l", "eval 'python3 -c \"print(1)\"' < /dev/null"],
            [shim, "-c", "print(1)"],
            ["bash", shim, "-c", "print(1)"],
        ] {
            // The embedded default policy (unparsable: alert), as a new user runs it.
            let r = try Guard.run(["run", "--workspace", dir.path, "--format", "json", "--"] + argv)
            XCTAssertEqual(r.status, 0, "\(argv): \(r.stderr)")
            // Python's own output is on stdout too: only the JSON lines are events.
            let events = r.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.joined(separator: "\n")
            let v = Guard.jsonLines(events).filter { $0["rule"] != nil }
            XCTAssertEqual(v.count, 0, "false alarm for \(argv): \(v)")
            XCTAssertTrue(r.stdout.contains("1\n"), "\(argv) did not run python: \(r.stdout)")
        }
    }
}
