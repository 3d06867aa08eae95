/// Programs that run another program without exec'ing it: the exec'd file is the runner, the program that runs
/// is its operand, loaded into the runner's own process (no exec of it is ever seen). The dynamic loader run
/// directly (`/lib64/ld-linux-x86-64.so.2 /bin/rm -rf V`), valgrind and its tools, qemu-user and the other
/// user-mode emulators. Each is a wrapper whose payload is its operand, judged with the operand's own identity
/// (`Payload.Exec.program`); the live guard knows renamed copies of them by content, as it knows every program
/// the wrappers and the policy name.
enum Runners {
    enum Kind: Sendable {
        /// glibc's or musl's dynamic loader: `ld.so [--library-path P] [--preload L] [--argv0 S] ... FILE ARGS`;
        /// FILE is a path (a bare name is not searched for over PATH).
        case loader
        /// valgrind, valgrind.bin and the tools they exec (`memcheck-amd64-linux`): `--opt=value` options,
        /// then the program, found over PATH.
        case valgrind
        /// qemu-user (`qemu-x86_64 [-L DIR] [-0 ARGV0] ... FILE ARGS`): `-opt` or `--opt`, FILE a path.
        case qemu
        /// Other user-mode emulators (box64, box86, FEX): the first operand is the program.
        case emulator

        /// How the runner reads its options (the one table of each: read by the unwrapping and by flag matching).
        var syntax: OptionSyntax {
            switch self {
            case .loader: return Runners.loaderSyntax
            case .valgrind: return Runners.valgrindSyntax
            case .qemu: return Runners.qemuSyntax
            case .emulator: return Runners.emulatorSyntax
            }
        }

        /// Whether a bare operand name is looked up over PATH (else it is a file in the working directory).
        var searchesPath: Bool { self == .valgrind || self == .emulator }
    }

    /// glibc 2.36 rtld's options (exact names, no `=`) and musl's.
    static let loaderSyntax = OptionSyntax(
        long: [
            "library-path", "inhibit-rpath", "audit", "preload", "argv0", "glibc-hwcaps-prepend", "glibc-hwcaps-mask",
        ], optionsFirst: true, argv0Option: "argv0")
    /// valgrind's options all carry their value attached (`--tool=none`; `--tool none` is an error).
    static let valgrindSyntax = OptionSyntax(optionsFirst: true)
    /// qemu-user 7.2's options (linux-user/main.c), those that take the next word as their value.
    static let qemuSyntax = OptionSyntax(
        long: [
            "g", "L", "s", "cpu", "E", "U", "0", "r", "B", "R", "d", "dfilter", "D", "p", "seed", "trace", "plugin",
        ],
        singleDashLong: true, optionsFirst: true, argv0Option: "0")
    static let emulatorSyntax = OptionSyntax(optionsFirst: true)

    /// The runner `name` (a basename) is, if any.
    static func kind(of name: String) -> Kind? {
        guard let first = name.utf8.first else { return nil }
        switch first {
        case UInt8(ascii: "l") where isLoader(name): return .loader
        case UInt8(ascii: "q"):
            guard name.hasPrefix("qemu-") else { return nil }
            var arch = name.dropFirst(5)
            if arch.hasSuffix("-static") { arch = arch.dropLast(7) }
            return qemuArchitectures.contains(String(arch)) ? .qemu : nil
        case UInt8(ascii: "b"), UInt8(ascii: "F"): return emulators.contains(name) ? .emulator : nil
        case UInt8(ascii: "v") where name == "valgrind" || name == "valgrind.bin": return .valgrind
        default: return isValgrindTool(name) ? .valgrind : nil
        }
    }

    /// `ld-linux-x86-64.so.2`, `ld-linux.so.2`, `ld64.so.2`, `ld.so.1`, `ld-musl-x86_64.so.1`, `ld-2.31.so` (the
    /// file older glibc's loader links point to), `ld.so`: not the linkers `ld`, `ld.bfd`, `ld.gold`, `ld.lld`.
    static func isLoader(_ name: String) -> Bool {
        guard name.hasPrefix("ld") else { return false }
        if name == "ld.so" || name.hasPrefix("ld.so.") || name.hasPrefix("ld64.so.") { return true }
        if name.hasPrefix("ld-linux") || name.hasPrefix("ld-musl-") { return name.contains(".so") }
        if name.hasPrefix("ld-"), name.hasSuffix(".so"), name.utf8.count > 6 {
            return name.dropFirst(3).dropLast(3).allSatisfy { $0 == "." || $0.isNumber }
        }
        return false
    }

    /// valgrind's tool binaries, which its launcher execs with the launcher's argv: `TOOL-ARCH-linux`.
    static func isValgrindTool(_ name: String) -> Bool {
        name.hasSuffix("-linux") && valgrindTools.contains { name.hasPrefix($0 + "-") }
    }

    static let valgrindTools: Set<String> = [
        "memcheck", "cachegrind", "callgrind", "helgrind", "drd", "massif", "dhat", "lackey", "none", "exp-bbv",
        "exp-dhat", "exp-sgcheck",
    ]

    static let qemuArchitectures: Set<String> = [
        "aarch64", "aarch64_be", "alpha", "arm", "armeb", "cris", "hexagon", "hppa", "i386", "loongarch64", "m68k",
        "microblaze", "microblazeel", "mips", "mips64", "mips64el", "mipsel", "mipsn32", "mipsn32el", "nios2", "or1k",
        "ppc", "ppc64", "ppc64le", "riscv32", "riscv64", "s390x", "sh4", "sh4eb", "sparc", "sparc32plus", "sparc64",
        "x86_64", "xtensa", "xtensaeb",
    ]

    static let emulators: Set<String> = ["box64", "box86", "FEXInterpreter", "FEXLoader", "FEX"]

    /// Where runners live outside PATH: the loader's directories (every multiarch one) and valgrind's tools. The
    /// live guard lists them at start, so a copy of any runner found there is known by content.
    static let directories = [
        "/lib64", "/lib", "/lib32", "/libx32", "/usr/lib64", "/usr/lib", "/usr/lib32",
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib/i386-linux-gnu", "/usr/lib/i386-linux-gnu", "/lib/arm-linux-gnueabihf", "/usr/lib/arm-linux-gnueabihf",
        "/lib/riscv64-linux-gnu", "/usr/lib/riscv64-linux-gnu", "/lib/powerpc64le-linux-gnu",
        "/lib/s390x-linux-gnu", "/usr/libexec/valgrind", "/usr/lib/valgrind", "/usr/lib/x86_64-linux-gnu/valgrind",
        "/usr/local/libexec/valgrind", "/usr/local/lib/valgrind",
    ]

    /// Options a runner takes from its environment that change what it runs, as the arguments they stand for
    /// (put before its own, which override them): qemu's `QEMU_ARGV0=NAME` is `-0 NAME`.
    static func environmentArguments(_ kind: Kind, environ: [String]) -> [String] {
        guard kind == .qemu else { return [] }
        for v in environ where v.hasPrefix("QEMU_ARGV0=") { return ["-0", String(v.dropFirst(11))] }
        return []
    }

    /// The program a runner runs: its first operand, with the words after it as that program's arguments.
    static func unwrap(_ kind: Kind, _ a: Args) -> [Payload] {
        let argv = a.argv
        let p = ParsedArgs(argv: argv, syntax: kind.syntax, unknown: a.unknown)
        let i = p.optionsEnd
        guard i < argv.count else { return [] }
        if a.isUnknown(i) { return [.unknown(argv[i])] }
        let operand = argv[i]
        var e = Payload.Exec(argv: Array(argv[i...]), unknown: a.unknown.filter { $0 >= i }.map { $0 - i })
        e.program = kind.searchesPath || operand.utf8.contains(0x2F) ? operand : "./" + operand
        if let argv0 = p.argv0 {
            // `--argv0 NAME`: what the program sees as argv[0] (busybox picks its applet by it).
            e.argv[0] = argv0
            if a.unknown.contains(where: { $0 < i }) && !e.unknown.contains(0) { e.unknown.insert(0, at: 0) }
        }
        return [.exec(e)]
    }
}
