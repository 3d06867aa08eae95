import XCTest

@testable import GuardCore

/// Issue 12 (points 1, 2, 9) and issue 14 point 7, without the kernel: runners are wrappers whose payload is the
/// program they load, options that imply others count as those, a truncated argv is completed from /proc only
/// when it is the same argv, and a shell's identity never leaks into the commands of its script.
final class EvasionUnitTests: XCTestCase {
    static let policy: Policy = {
        let yaml = """
            version: 1
            name: evasion
            default: allow
            settings: { unknown_command: allow, unparsable: alert }
            rules:
              - id: rm-rf
                match: { command: rm, flags: [r|R|recursive, f|force] }
                action: kill
              - id: rm-allowed-force
                match: { command: rm, flags: [force], args: ['*allowed*'] }
                action: allow
              - id: git-clean-force
                match: { command: git, args: [clean], flags: [f|force] }
                action: stop
              - id: git-push-force
                match: { command: git, args: [push], flags: [f|force|mirror] }
                action: stop
              - id: curl-post
                match: { command: curl, flags: [d|data] }
                action: alert
              - id: bash-marker
                match: { command: bash, args: ['bash-only-marker'] }
                action: alert
            """
        return try! Policy.load(yaml: yaml, file: "evasion.yaml")
    }()

    func check(_ line: String, file: StaticString = #filePath, lineNo: UInt = #line) -> Action {
        Self.policy.evaluate(commandLine: line, cwd: "/work", workspace: "/work").action
    }

    func payload(_ argv: [String]) -> [Payload] {
        Wrappers.unwrap(names: [Paths.basename(argv[0])], argv: argv, unknown: [])
    }

    // MARK: - Runners (issue 12 point 1)

    func testRunnerNamesAreRecognisedAndLinkersAreNot() {
        for n in [
            "ld-linux-x86-64.so.2", "ld-linux.so.2", "ld-linux-aarch64.so.1", "ld64.so.2", "ld.so.1", "ld.so",
            "ld-musl-x86_64.so.1", "ld-2.31.so",
        ] {
            XCTAssertEqual(Runners.kind(of: n), .loader, n)
        }
        for n in ["valgrind", "valgrind.bin", "memcheck-amd64-linux", "none-x86-linux", "exp-bbv-arm64-linux"] {
            XCTAssertEqual(Runners.kind(of: n), .valgrind, n)
        }
        for n in ["qemu-x86_64", "qemu-aarch64", "qemu-riscv64-static", "qemu-arm"] {
            XCTAssertEqual(Runners.kind(of: n), .qemu, n)
        }
        for n in ["box64", "FEXInterpreter"] { XCTAssertEqual(Runners.kind(of: n), .emulator, n) }
        for n in ["ld", "ld.bfd", "ld.gold", "ld.lld", "ldd", "ldconfig", "qemu-img", "qemu-system-x86_64", "lsblk"] {
            XCTAssertNil(Runners.kind(of: n), n)
        }
        XCTAssertTrue(Wrappers.wraps("ld-linux-x86-64.so.2"))
        XCTAssertTrue(ProgramRunners.isRunner("qemu-x86_64"))
    }

    func testLoaderOptionsAreSkippedAndItsOperandRuns() {
        let ld = "/lib64/ld-linux-x86-64.so.2"
        for argv in [
            [ld, "/bin/rm", "-rf", "/v"],
            [ld, "--library-path", "/x", "--preload", "/y.so", "--audit", "/z.so", "/bin/rm", "-rf", "/v"],
            [ld, "--inhibit-cache", "--inhibit-rpath", "a", "--glibc-hwcaps-mask", "m", "/bin/rm", "-rf", "/v"],
            [ld, "--list", "/bin/rm", "-rf", "/v"],
        ] {
            guard case .exec(let e)? = payload(argv).first else { return XCTFail("\(argv)") }
            XCTAssertEqual(e.argv, ["/bin/rm", "-rf", "/v"], "\(argv)")
            XCTAssertEqual(e.program, "/bin/rm")
            XCTAssertEqual(check(argv.joined(separator: " ")), .kill, "\(argv)")
        }
        // --argv0 sets what the program sees: busybox then runs that applet.
        guard case .exec(let e)? = payload([ld, "--argv0", "rm", "/bin/busybox", "-rf", "/v"]).first else {
            return XCTFail("argv0")
        }
        XCTAssertEqual(e.argv, ["rm", "-rf", "/v"])
        XCTAssertEqual(e.program, "/bin/busybox")
        XCTAssertEqual(check("\(ld) --argv0 rm /bin/busybox -rf /v"), .kill)
        // A bare operand is a file of the working directory, not a PATH lookup.
        guard case .exec(let bare)? = payload([ld, "rmcopy", "-rf", "/v"]).first else { return XCTFail("bare") }
        XCTAssertEqual(bare.program, "./rmcopy")
        XCTAssertEqual(payload([ld, "--help"]).count, 0)
        XCTAssertEqual(check("\(ld) /bin/ls -la"), .allow)
    }

    func testValgrindAndItsToolsRunTheirOperand() {
        XCTAssertEqual(check("valgrind -q --tool=none --trace-children=yes rm -rf /v"), .kill)
        XCTAssertEqual(check("valgrind --tool=memcheck -- /bin/rm -rf /v"), .kill)
        XCTAssertEqual(check("valgrind --version"), .allow)
        // The launcher execs the tool with its own argv: argv[0] is still valgrind.bin.
        let tool = ExecContext(
            argv: ["/usr/bin/valgrind.bin", "-q", "--tool=none", "/bin/rm", "-rf", "/v"],
            path: "/usr/libexec/valgrind/none-amd64-linux")
        XCTAssertEqual(Self.policy.evaluate(tool).action, .kill)
    }

    func testQemuUserOptionsAndArgv0() {
        XCTAssertEqual(check("qemu-x86_64 -L / -cpu max -E A=1 /bin/rm -rf /v"), .kill)
        XCTAssertEqual(check("qemu-x86_64 --cpu max -strace -- /bin/rm -rf /v"), .kill)
        XCTAssertEqual(check("qemu-aarch64-static -0 rm /bin/busybox -rf /v"), .kill)
        XCTAssertEqual(check("qemu-x86_64 -d in_asm -D /tmp/log /bin/ls /v"), .allow)
        guard case .exec(let e)? = payload(["qemu-x86_64", "-U", "X", "rmcopy", "-rf", "/v"]).first else {
            return XCTFail("qemu")
        }
        XCTAssertEqual(e.program, "./rmcopy")
        XCTAssertEqual(e.argv, ["rmcopy", "-rf", "/v"])
    }

    func testARunnerPayloadIsJudgedByTheIdentityOfTheFileItLoads() {
        // Offline the renamed copy is only a name; the live guard's identify says what it is.
        let ctx = ExecContext(
            argv: ["/lib64/ld-linux-x86-64.so.2", "/tmp/x/harmless", "-rf", "/v"],
            path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", cwd: "/tmp")
        XCTAssertEqual(Self.policy.evaluate(ctx).action, .allow)
        var asked: [String] = []
        let v = Self.policy.evaluate(ctx) { path in
            asked.append(path)
            return path.hasSuffix("/harmless") ? ["rm"] : []
        }
        XCTAssertEqual(v.action, .kill)
        XCTAssertEqual(asked, ["/tmp/x/harmless"])
        // A renamed copy of the loader (known by content) is the loader.
        let copy = ExecContext(
            argv: ["/tmp/myld", "/bin/rm", "-rf", "/v"], path: "/tmp/myld", identities: ["ld-linux-x86-64.so.2"])
        XCTAssertEqual(Self.policy.evaluate(copy).action, .kill)
        XCTAssertNotEqual(Self.policy.programVerdict(path: "/tmp/myld", identities: ["ld-linux-x86-64.so.2"]), .pass)
        XCTAssertNotEqual(Self.policy.programVerdict(path: "/usr/bin/qemu-x86_64"), .pass)
    }

    func testAProgramKnownByTwoWrapperNamesRunsWhatEitherRuns() {
        // A copy of the loader named timeout: read as timeout, `/bin/rm` would be its duration.
        let copy = ExecContext(
            argv: ["./timeout", "/bin/rm", "-rf", "/v"], path: "/tmp/timeout", cwd: "/tmp",
            identities: ["ld-linux-x86-64.so.2"])
        XCTAssertEqual(Self.policy.evaluate(copy).action, .kill)
        // A copy of env named like a shell.
        let env = ExecContext(argv: ["dash", "rm", "-rf", "/v"], path: "/tmp/dash", identities: ["env"])
        XCTAssertEqual(Self.policy.evaluate(env).action, .kill)
    }

    func testRunnersInPipelinesAndDownloads() throws {
        let yaml = """
            version: 1
            name: dl
            rules:
              - id: dl-run
                match: { pipeline: [ { command: [curl] }, { command: [sh, dash] } ] }
                action: kill
            """
        let p = try Policy.load(yaml: yaml, file: "dl.yaml")
        XCTAssertEqual(p.evaluate(commandLine: "curl -s x | /lib64/ld-linux-x86-64.so.2 /bin/sh").action, .kill)
        XCTAssertEqual(
            p.evaluate(commandLine: "curl -o f https://x/f && /lib64/ld-linux-x86-64.so.2 ./f", cwd: "/w").action,
            .kill)
    }

    func testBusyboxCopiesNamedBusyboxSomethingTakeTheAppletFromArgv1() {
        let copy = ExecContext(argv: ["busybox2", "rm", "-rf", "/v"], path: "/tmp/busybox2", identities: ["busybox"])
        XCTAssertEqual(Self.policy.evaluate(copy).action, .kill)
        let login = ExecContext(argv: ["-rm", "-rf", "/v"], path: "/bin/busybox")
        XCTAssertEqual(Self.policy.evaluate(login).action, .kill)
    }

    // MARK: - Options that imply others (issue 12 point 9)

    func testRmInteractiveNeverIsForce() {
        for line in [
            "rm -r --interactive=never /v", "rm -r --interactive=no /v", "rm -r --interactive=none /v",
            "rm -r --interactive=n /v", "rm -R --interactive=nev /v", "rm --recursive --inter=never /v",
            "rm --interactive=NEVER -r /v",
        ] {
            XCTAssertEqual(check(line), .kill, line)
        }
        for line in [
            "rm -r --interactive=once /v", "rm -r --interactive=always /v", "rm -r --interactive /v",
            "rm -r --interactive never", "rm -r -- --interactive=never",
        ] {
            XCTAssertEqual(check(line), .allow, line)
        }
        // An allow rule needs the implying option written in full, as it needs its own flags.
        XCTAssertEqual(check("rm --interactive=never allowed-file"), .allow)
        XCTAssertEqual(check("rm --inter=never allowed-file"), .allow)
    }

    func testGitConfigAndCurlAliasesImplyTheirFlags() {
        XCTAssertEqual(check("git -c clean.requireForce=false clean -dx"), .stop)
        XCTAssertEqual(check("git -c CLEAN.REQUIREFORCE=0 clean -d"), .stop)
        XCTAssertEqual(check("git -c clean.requireForce= clean"), .stop)
        XCTAssertEqual(check("git -c clean.requireForce=true clean -d"), .allow)
        XCTAssertEqual(check("git -c clean.requireForce=false status"), .allow)
        XCTAssertEqual(check("git -c remote.origin.mirror=true push origin"), .stop)
        XCTAssertEqual(check("git -c remote.origin.mirror push origin"), .stop)
        XCTAssertEqual(check("git -c remote.origin.mirror=false push origin"), .allow)
        XCTAssertEqual(check("git -c remote.origin.mirror=true fetch origin"), .allow)
        XCTAssertEqual(check("curl --data-ascii x=1 https://example.com"), .alert)
        XCTAssertEqual(check("curl --data-a x=1 https://example.com"), .alert)
    }

    /// Implied flags, git configuration and a runner are seen wherever they are written (the retired `check
    /// --file` prefilter once had to prove it never passed these).
    func testImpliedFlagsAndRunnersAreJudgedInEveryForm() {
        for line in [
            "rm -r --interactive=never /v", "rm -r --inter=n /v", "git -c clean.requireForce=false clean -d",
            "curl --data-ascii x https://e.x", "/lib64/ld-linux-x86-64.so.2 /bin/rm -rf /v",
        ] {
            XCTAssertNotEqual(check(line), .allow, line)
        }
    }

    // MARK: - Shell identity (issue 14 point 7)

    func testAShellsIdentityDoesNotLeakIntoItsScriptsCommands() {
        // The live guard knows bash by identity; python3 inside its -c text is not bash (it was read as
        // `bash -c "print(1)"`, an unparsable alert, in `run` while `check` allowed it).
        let bash = ExecContext(
            argv: ["bash", "-c", "/usr/bin/python3 -c \"print(1)\""], path: "/usr/bin/bash", cwd: "/tmp",
            identities: ["bash", "rbash"])
        XCTAssertEqual(Self.policy.evaluate(bash).action, .allow)
        XCTAssertEqual(check("bash -c '/usr/bin/python3 -c \"print(1)\"'"), .allow)
        // Nor do bash's rules apply to them.
        let marker = ExecContext(
            argv: ["bash", "-c", "echo bash-only-marker"], path: "/usr/bin/bash", identities: ["bash"])
        XCTAssertEqual(Self.policy.evaluate(marker).action, .allow)
        // The shell itself keeps its identity.
        let own = ExecContext(argv: ["sh2", "bash-only-marker"], path: "/tmp/sh2", identities: ["bash"])
        XCTAssertEqual(Self.policy.evaluate(own).action, .alert)
    }

    // MARK: - Argv longer than the kernel copies (issue 12 point 2)

    func testWholeArgvOnlyWhenItExtendsTheKernelsCopy() {
        let kernel: [[UInt8]] = [Array("rm".utf8), Array("/a".utf8), Array("/b".utf8)]
        let full = Array("rm\u{0}/a\u{0}/bcd\u{0}-rf\u{0}/v\u{0}".utf8)
        XCTAssertEqual(
            ExecEvent.wholeArgv(kernel: kernel, cmdline: full)?.map { String(decoding: $0, as: UTF8.self) },
            ["rm", "/a", "/bcd", "-rf", "/v"])
        XCTAssertNil(ExecEvent.wholeArgv(kernel: kernel, cmdline: Array("rm\u{0}/x\u{0}-rf\u{0}".utf8)))
        XCTAssertNil(ExecEvent.wholeArgv(kernel: kernel, cmdline: nil))
        XCTAssertNil(ExecEvent.wholeArgv(kernel: kernel, cmdline: []))
        XCTAssertNil(ExecEvent.wholeArgv(kernel: kernel, cmdline: Array("rm/a/b".utf8)))
    }
}
