import Foundation
import GuardKernel
import XCTest

/// Issue 12, class 3 on the real kernel: an argv rewritten between the guard's check and the program reading
/// it. A preload library's constructor and a tracer at the exec stop turn the judged `rm -vv VICTIM` into
/// `rm -rf VICTIM` (each first shown to work unguarded); a guarded process attaching to a process outside the
/// tree, or writing a process of the tree after its exec was judged, is killed before the call returns to it.
/// The victim must survive, and ordinary use must raise nothing.
final class TracerPreloadTests: XCTestCase {
    static func policy(ptrace: String = "kill", files: Bool = false) -> String {
        Guard.testPolicy(
            "rewrite-test", settings: "  preload: kill\n  traced_exec: kill\n  ptrace: \(ptrace)",
            rules: Guard.rmRecursiveForce)
            + (files
                ? "\nfiles:\n  - { id: unrelated, paths: { under: ['/nonexistent-cg-rt/*'] }, access: [write], action: deny }\n"
                : "")
    }

    /// A preload library whose constructor turns `-vv` into `-rf` in the argv rm is about to parse.
    static let preloadSource = """
        #include <string.h>
        __attribute__((constructor)) static void rewrite(int argc, char **argv, char **envp)
        {
            for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "-vv") == 0) { argv[i][1] = 'r'; argv[i][2] = 'f'; }
        }
        """

    /// `tracer VICTIM`: runs `rm -vv VICTIM` traced (PTRACE_TRACEME, PTRACE_O_TRACEEXEC) and at the exec stop
    /// rewrites the new image's argv to `rm -rf VICTIM`; swallows a SIGSTOP (a guard's hold) as an attacker would.
    static let tracerSource = """
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/ptrace.h>
        #include <sys/wait.h>
        #include <unistd.h>

        static unsigned long stat_field(pid_t pid, int field)
        {
            char path[64], buf[4096];
            snprintf(path, sizeof(path), "/proc/%d/stat", pid);
            FILE *f = fopen(path, "r");
            if (!f || !fgets(buf, sizeof(buf), f)) return 0;
            fclose(f);
            char *p = strrchr(buf, ')') + 2;
            for (int i = 3; i < field; i++) p = strchr(p, ' ') + 1;
            return strtoul(p, NULL, 10);
        }

        int main(int argc, char **argv)
        {
            pid_t child = fork();
            if (child == 0) {
                ptrace(PTRACE_TRACEME, 0, 0, 0);
                raise(SIGSTOP);
                execl("/bin/rm", "rm", "-vv", argv[1], (char *)0);
                _exit(127);
            }
            int st;
            waitpid(child, &st, 0);
            ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
            ptrace(PTRACE_CONT, child, 0, 0);
            while (waitpid(child, &st, 0) == child) {
                if (WIFEXITED(st) || WIFSIGNALED(st)) break;
                int sig = 0;
                if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
                    /* The new image's argv: arg_start..arg_end, fields 48 and 49 of /proc/PID/stat. */
                    unsigned long start = stat_field(child, 48), end = stat_field(child, 49);
                    for (unsigned long a = start; a + 3 <= end; a++) {
                        long w = ptrace(PTRACE_PEEKDATA, child, a, 0);
                        if (memcmp(&w, "-vv", 3) == 0) {
                            memcpy(&w, "-rf", 3);
                            ptrace(PTRACE_POKEDATA, child, a, w);
                            break;
                        }
                    }
                } else if (WIFSTOPPED(st) && WSTOPSIG(st) != SIGSTOP) {
                    sig = WSTOPSIG(st);
                }
                ptrace(PTRACE_CONT, child, 0, sig);
            }
            return 0;
        }
        """

    /// `reach PID attach|seize|write`: ptrace-attaches to PID (then detaches), or writes a byte of its memory;
    /// prints `reached` on stderr only if the call returned to it.
    static let reachSource = """
        #define _GNU_SOURCE
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/ptrace.h>
        #include <sys/uio.h>
        #include <sys/wait.h>
        #include <unistd.h>

        int main(int argc, char **argv)
        {
            pid_t pid = atoi(argv[1]);
            long r;
            if (strcmp(argv[2], "write") == 0) {
                char byte = 0;
                struct iovec local = { &byte, 1 }, remote = { (void *)0x10000, 1 };
                r = process_vm_writev(pid, &local, 1, &remote, 1, 0);
            } else {
                r = ptrace(strcmp(argv[2], "seize") == 0 ? PTRACE_SEIZE : PTRACE_ATTACH, pid, 0, 0);
            }
            fprintf(stderr, "reached %ld\\n", r);
            if (strcmp(argv[2], "attach") == 0 && r == 0) waitpid(pid, NULL, __WALL);
            if (strcmp(argv[2], "write") != 0 && r == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
            return 0;
        }
        """

    /// `sibling MODE VICTIM`: forks a child that execs `rm -vv VICTIM` (judged harmless) and, right after that
    /// exec, rewrites `-vv` into `-rf` in the child's memory — MODE vm: process_vm_writev, mem: /proc/PID/mem,
    /// uring: /proc/PID/mem opened through io_uring (no open syscall), attach/seize: ptrace and PTRACE_POKEDATA. Writer and child share one CPU, the writer SCHED_FIFO, so the new
    /// image runs (almost) nothing before the writer is done; prints `wrote N` if the write call returned to it.
    static let siblingSource = """
        #define _GNU_SOURCE
        #include <fcntl.h>
        #include <linux/io_uring.h>
        #include <sched.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <sys/prctl.h>
        #include <sys/ptrace.h>
        #include <sys/syscall.h>
        #include <sys/uio.h>
        #include <sys/wait.h>
        #include <time.h>
        #include <unistd.h>

        /* The child's name and argv (arg_start, arg_end: fields 48, 49 of /proc/PID/stat). */
        static int argv_area(pid_t pid, unsigned long *start, unsigned long *end, char *comm)
        {
            char path[64], buf[4096];
            snprintf(path, sizeof(path), "/proc/%d/stat", pid);
            int fd = open(path, O_RDONLY);
            if (fd < 0) return -1;
            int n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            if (n <= 0) return -1;
            buf[n] = 0;
            char *o = strchr(buf, '('), *c = strrchr(buf, ')');
            if (!o || !c || c - o > 60) return -1;
            memcpy(comm, o + 1, c - o - 1);
            comm[c - o - 1] = 0;
            char *p = c + 2;
            for (int i = 3; i < 48; i++) { p = strchr(p, ' '); if (!p) return -1; p++; }
            *start = strtoul(p, &p, 10);
            *end = strtoul(p + 1, NULL, 10);
            return 0;
        }

        /* open(path, O_RDWR) as an io_uring request (IORING_OP_OPENAT): the new descriptor, or -1. */
        static int uring_open(const char *path)
        {
            struct io_uring_params p;
            memset(&p, 0, sizeof(p));
            int ring = syscall(__NR_io_uring_setup, 4, &p);
            if (ring < 0) return -1;
            char *sq = mmap(0, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
            char *cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
            struct io_uring_sqe *sqe = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
            memset(sqe, 0, sizeof(*sqe));
            sqe->opcode = IORING_OP_OPENAT;
            sqe->fd = AT_FDCWD;
            sqe->addr = (unsigned long)path;
            sqe->open_flags = O_RDWR;
            unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
            ((unsigned *)(sq + p.sq_off.array))[*tail & *(unsigned *)(sq + p.sq_off.ring_mask)] = 0;
            __atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
            if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, 0, 0) != 1) return -1;
            return ((struct io_uring_cqe *)(cq + p.cq_off.cqes))[0].res;
        }

        int main(int argc, char **argv)
        {
            const char *mode = argv[1];
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(sched_getcpu(), &one);
            sched_setaffinity(0, sizeof(one), &one);
            int p[2];
            pipe2(p, O_CLOEXEC);
            pid_t c = fork();
            if (c == 0) { close(p[0]); execl("/bin/rm", "rm", "-vv", argv[2], (char *)0); _exit(127); }
            close(p[1]);
            struct sched_param sp = { .sched_priority = 1 };
            sched_setscheduler(0, SCHED_FIFO, &sp);
            char x;
            read(p[0], &x, 1); /* EOF: the exec closed the descriptors */
            unsigned long s = 0, e = 0;
            char comm[64];
            prctl(PR_SET_TIMERSLACK, 1);
            struct timespec slice = { 0, 20000 };
            for (int i = 0; i < 100000; i++) { /* the exec sets up argv after that: short slices for it */
                if (argv_area(c, &s, &e, comm) < 0) break;
                if (!strcmp(comm, "rm") && s) break;
                nanosleep(&slice, NULL);
            }
            if (!s || e - s > 4000) return 9;
            char buf[4096];
            struct iovec l = { buf, e - s }, r = { (void *)s, e - s };
            long rc = -1;
            if (!strcmp(mode, "vm") || !strcmp(mode, "mem") || !strcmp(mode, "uring")) {
                process_vm_readv(c, &l, 1, &r, 1, 0);
                for (unsigned long i = 0; i + 3 <= e - s; i++)
                    if (!memcmp(buf + i, "-vv", 3)) { memcpy(buf + i, "-rf", 3); break; }
                if (!strcmp(mode, "vm")) {
                    rc = process_vm_writev(c, &l, 1, &r, 1, 0);
                } else {
                    char path[64];
                    snprintf(path, sizeof(path), "/proc/%d/mem", c);
                    int fd = strcmp(mode, "uring") ? open(path, O_RDWR) : uring_open(path);
                    rc = pwrite(fd, buf, e - s, s);
                }
            } else {
                rc = ptrace(!strcmp(mode, "seize") ? PTRACE_SEIZE : PTRACE_ATTACH, c, 0, 0);
                if (!strcmp(mode, "seize")) ptrace(PTRACE_INTERRUPT, c, 0, 0);
                int st;
                waitpid(c, &st, __WALL);
                for (unsigned long a = s; a + 3 <= e; a++) {
                    long w = ptrace(PTRACE_PEEKDATA, c, a, 0);
                    if (!memcmp(&w, "-vv", 3)) { memcpy(&w, "-rf", 3); ptrace(PTRACE_POKEDATA, c, a, w); break; }
                }
                ptrace(PTRACE_DETACH, c, 0, 0);
                kill(c, SIGCONT);
            }
            fprintf(stderr, "wrote %ld\\n", rc);
            int st;
            waitpid(c, &st, 0);
            return 0;
        }
        """

    var dir: URL!
    var policyPath: String!

    override func setUpWithError() throws {
        try Guard.requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else {
            throw XCTSkip("/usr/bin/cc is not installed: the fixtures cannot be built")
        }
        (dir, policyPath) = try Guard.policyDir(Self.policy())
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func victim() throws -> String { try Guard.victim(in: dir) }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Compiles C source into the test directory (a shared library with `shared`).
    func compile(_ source: String, as name: String, shared: Bool = false) throws -> String {
        let src = dir.appendingPathComponent(name + ".c").path
        let out = dir.appendingPathComponent(name).path
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        let r = try Guard.exec("/usr/bin/cc", (shared ? ["-shared", "-fPIC"] : []) + ["-O1", "-o", out, src])
        XCTAssertEqual(r.status, 0, "cc failed: \(r.stderr)")
        return out
    }

    func guarded(_ argv: [String], policy: String? = nil) throws -> Guard.Result {
        try Guard.run(
            ["run", "--policy", policy ?? policyPath, "--workspace", dir.path, "--format", "json", "--"] + argv)
    }

    func violations(_ r: Guard.Result) -> [[String: Any]] { Guard.jsonLines(r.stdout).filter { $0["rule"] != nil } }

    /// The victim survived, the run failed with 3, and the violation is `rule`, carried out as `enforced`.
    func assertCaught(
        _ r: Guard.Result, _ victim: String, rule: String, enforced: String = "killed", _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertTrue(
            exists(victim + "/file"), "victim deleted by: \(what)\n\(r.stdout)\n\(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.status, 3, "violation exit code for: \(what)\n\(r.stderr)", file: file, line: line)
        XCTAssertTrue(
            violations(r).contains { $0["rule"] as? String == rule && $0["enforced"] as? String == enforced },
            "no \(rule) \(enforced) for \(what): \(r.stdout)", file: file, line: line)
    }

    // MARK: - Preload and audit libraries

    func testPreloadLibraryThatRewritesArgvIsKilledAtExec() throws {
        let lib = try compile(Self.preloadSource, as: "librewrite.so", shared: true)
        // The attack works unguarded: rm -vv on a directory deletes it.
        let control = try victim()
        try Guard.exec("/usr/bin/env", ["LD_PRELOAD=\(lib)", "/bin/rm", "-vv", control])
        XCTAssertFalse(exists(control), "the preload fixture no longer rewrites argv: the test proves nothing")

        let libDir = dir.path
        let padding = (0..<5000).map { "export P\($0)=x" }.joined(separator: "; ")
        let forms: [(String, (String) -> [String])] = [
            ("LD_PRELOAD by path", { ["bash", "-c", "LD_PRELOAD=\(lib) rm -vv \($0)"] }),
            ("LD_PRELOAD by env(1)", { ["env", "LD_PRELOAD=\(lib)", "/bin/rm", "-vv", $0] }),
            (
                "among other preloads",
                { ["bash", "-c", "LD_PRELOAD='/usr/lib/x86_64-linux-gnu/libc.so.6 \(lib)' rm -vv \($0)"] }
            ),
            (
                "a bare name over LD_LIBRARY_PATH",
                { ["bash", "-c", "LD_LIBRARY_PATH=\(libDir) LD_PRELOAD=librewrite.so rm -vv \($0)"] }
            ),
            ("relative to the cwd", { ["bash", "-c", "cd \(libDir) && LD_PRELOAD=./librewrite.so rm -vv \($0)"] }),
            ("LD_AUDIT", { ["bash", "-c", "LD_AUDIT=\(lib) rm -vv \($0)"] }),
            // Past the kernel's scan of 4,096 environment strings: read whole from /proc while held.
            ("after 5,000 other variables", { ["bash", "-c", "\(padding); LD_PRELOAD=\(lib) rm -vv \($0)"] }),
        ]
        for (what, form) in forms {
            let v = try victim()
            assertCaught(try guarded(form(v)), v, rule: "settings.preload", what)
        }
    }

    func testSystemPreloadsAndUnnamedProgramsRaiseNothing() throws {
        let lib = try compile(Self.preloadSource, as: "librewrite.so", shared: true)
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
        guard exists(libc) else { throw XCTSkip("no \(libc) on this machine") }
        let scratch = dir.appendingPathComponent("scratch").path
        let script = [
            "touch \(scratch)-1 \(scratch)-2 \(scratch)-3",
            "rm \(scratch)-1",  // no preload
            "LD_PRELOAD=\(libc) rm \(scratch)-2",  // libc's own, by path
            "LD_PRELOAD=libc.so.6 rm \(scratch)-3",  // by name, from the system's directories
            "LD_PRELOAD=\(lib) /bin/true",  // a program no rule names
        ].joined(separator: " && ")
        let r = try guarded(["bash", "-c", script])
        XCTAssertEqual(r.status, 0, "\(r.stdout)\n\(r.stderr)")
        XCTAssertEqual(violations(r).count, 0, r.stdout)
        XCTAssertFalse(exists(scratch + "-3"), "the allowed rm did not run: \(r.stderr)")
        let execs = Guard.jsonLines(r.stdout).filter { $0["type"] as? String == "exec" }
        XCTAssertTrue(
            execs.contains { ($0["loader_env"] as? [String])?.contains("LD_PRELOAD=\(libc)") == true },
            "the exec record does not carry LD_PRELOAD: \(r.stdout)")
    }

    // MARK: - Tracers

    func testTracerThatRewritesArgvAtTheExecStopIsKilled() throws {
        let tracer = try compile(Self.tracerSource, as: "tracer")
        let control = try victim()
        try Guard.exec(tracer, [control])
        XCTAssertFalse(exists(control), "the tracer fixture no longer rewrites argv: the test proves nothing")

        for viaShell in [false, true] {
            let v = try victim()
            let r = try guarded(viaShell ? ["bash", "-c", "\(tracer) \(v); true"] : [tracer, v])
            assertCaught(r, v, rule: "settings.traced_exec", viaShell ? "bash -c tracer" : "tracer")
            let execs = Guard.jsonLines(r.stdout).filter {
                $0["type"] as? String == "exec" && $0["traced"] as? Bool == true
            }
            XCTAssertFalse(execs.isEmpty, "no exec record says traced: \(r.stdout)")
        }
    }

    func testTracingTheTreesOwnUnnamedProgramsRaisesNothing() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") else {
            throw XCTSkip("strace is not installed")
        }
        // strace PTRACE_SEIZEs its own child (tracked): no violation; /bin/true is named by no rule.
        let r = try guarded(["/usr/bin/strace", "-f", "-o", "/dev/null", "/bin/true"])
        XCTAssertEqual(r.status, 0, "\(r.stdout)\n\(r.stderr)")
        XCTAssertEqual(violations(r).count, 0, r.stdout)
    }

    // MARK: - Writes into the tree's own processes after their exec was judged

    func testRewritingAJudgedSiblingsArgvKillsTheWriter() throws {
        let sibling = try compile(Self.siblingSource, as: "sibling")
        // The attack works unguarded: the judged `rm -vv V` runs as `rm -rf V` (a race the fixture nearly always
        // wins; a few tries so that the control proves the fixture, not the race).
        var rewritten = false
        for _ in 0..<5 where !rewritten {
            let control = try victim()
            try Guard.exec(sibling, ["uring", control])
            rewritten = !exists(control)
        }
        XCTAssertTrue(rewritten, "the sibling fixture no longer rewrites argv: the test proves nothing")

        // A file rule on an unrelated path turns on the file programs (they see the /proc/PID/mem opens).
        let filesPolicy = dir.appendingPathComponent("files.yaml").path
        try Self.policy(files: true).write(toFile: filesPolicy, atomically: true, encoding: .utf8)
        let ops = [
            "vm": "process_vm_writev", "mem": "/proc/PID/mem", "uring": "/proc/PID/mem", "attach": "PTRACE_ATTACH",
            "seize": "PTRACE_SEIZE",
        ]
        for mode in ["vm", "mem", "uring", "attach", "seize"] {
            let v = try victim()
            let r = try guarded([sibling, mode, v], policy: filesPolicy)
            assertCaught(r, v, rule: "settings.ptrace", "sibling \(mode)")
            XCTAssertFalse(r.stderr.contains("wrote "), "\(mode): the write returned to the writer: \(r.stderr)")
            let record = Guard.jsonLines(r.stdout).first { $0["type"] as? String == "ptrace" && $0["rule"] != nil }
            XCTAssertEqual(record?["op"] as? String, ops[mode], "\(mode): \(r.stdout)")
            XCTAssertEqual(record?["target_comm"] as? String, "rm", "\(mode): \(r.stdout)")
            XCTAssertEqual(record?["target_execed"] as? Bool, true, "\(mode): \(r.stdout)")
            if mode == "vm" || mode == "uring" {
                // The request runs before the writer's kill is delivered: the written process dies too.
                XCTAssertEqual(record?["target_killed"] as? Bool, true, "vm: \(r.stdout)")
            }
        }
    }

    // MARK: - ptrace of a process outside the tree

    /// A process started outside the guard (its own session), running `body`; returns its PID once it runs.
    func outsider(_ body: String) throws -> Int32 {
        let pidFile = dir.appendingPathComponent("outsider-\(UUID().uuidString.prefix(8)).pid").path
        let scriptFile = pidFile + ".sh"
        try "echo $$ > \(pidFile).tmp && mv \(pidFile).tmp \(pidFile); \(body)".write(
            toFile: scriptFile, atomically: true, encoding: .utf8)
        XCTAssertEqual(system("/usr/bin/setsid -f bash \(scriptFile) </dev/null >/dev/null 2>&1"), 0)
        let deadline = Date().addingTimeInterval(5)
        while !exists(pidFile) && Date() < deadline { usleep(10_000) }
        let pid = try XCTUnwrap(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        addTeardownBlock { kill(pid, SIGKILL) }
        return pid
    }

    func testAttachingToAProcessOutsideTheTreeKillsTheTracer() throws {
        let reach = try compile(Self.reachSource, as: "reach")
        for how in ["attach", "seize", "write"] {
            let sleeper = try outsider("exec sleep 300")
            let r = try guarded([reach, String(sleeper), how])
            XCTAssertEqual(r.status, 3, "\(how): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("reached "), "\(how): the call returned to the tracer: \(r.stderr)")
            let v = violations(r)
            XCTAssertTrue(
                v.contains {
                    $0["type"] as? String == "ptrace" && $0["rule"] as? String == "settings.ptrace"
                        && $0["enforced"] as? String == "killed" && $0["target_pid"] as? Int == Int(sleeper)
                }, "\(how): \(r.stdout)")
            // The outsider lives on, detached, and is not left stopped by PTRACE_ATTACH's SIGSTOP.
            XCTAssertEqual(kill(sleeper, 0), 0, "\(how): the outsider died")
            XCTAssertNotEqual(ProcFS.state(of: sleeper), "T", "\(how): the outsider was left stopped")
            XCTAssertNotEqual(ProcFS.state(of: sleeper), "t", "\(how): the outsider is still traced")
            let tracerPid = try XCTUnwrap(
                try String(contentsOfFile: "/proc/\(sleeper)/status", encoding: .utf8).split(separator: "\n")
                    .first { $0.hasPrefix("TracerPid:") })
            XCTAssertTrue(tracerPid.hasSuffix("\t0"), "\(how): \(tracerPid)")
            kill(sleeper, SIGKILL)
        }
    }

    func testATracedOutsiderIsTrackedWhenThePolicyLetsTheTracerLive() throws {
        let reach = try compile(Self.reachSource, as: "reach")
        let alertPolicy = dir.appendingPathComponent("alert.yaml").path
        try Self.policy(ptrace: "alert").write(toFile: alertPolicy, atomically: true, encoding: .utf8)
        let v = try victim()
        let go = dir.appendingPathComponent("go").path
        let done = dir.appendingPathComponent("done").path
        // Outside the guard, waiting for `go`, then deleting the victim.
        let outsiderPid = try outsider("while [ ! -e \(go) ]; do sleep 0.05; done; rm -rf \(v); : > \(done)")
        let r = try guarded(
            [
                "bash", "-c",
                "\(reach) \(outsiderPid) seize && : > \(go) && while [ ! -e \(done) ]; do sleep 0.05; done",
            ],
            policy: alertPolicy)
        XCTAssertTrue(exists(v + "/file"), "the adopted outsider's rm -rf ran: \(r.stdout)\n\(r.stderr)")
        XCTAssertEqual(r.status, 3, r.stderr)
        let records = Guard.jsonLines(r.stdout)
        XCTAssertTrue(
            records.contains {
                $0["type"] as? String == "ptrace" && $0["enforced"] as? String == "alerted"
                    && $0["adopted"] as? Bool == true
            }, r.stdout)
        XCTAssertTrue(
            records.contains { $0["rule"] as? String == "rm-recursive-force" && $0["enforced"] as? String == "killed" },
            r.stdout)
    }
}
