import XCTest

@testable import GuardCore

/// `settings.preload`, `settings.traced_exec`, `settings.ptrace` (issue 12, class 3): loaded with their defaults,
/// bad values named by file:line:column, held by the shipped policies; and which preload libraries are the
/// system's own.
final class RewriteSettingsTests: XCTestCase {
    private let rules = "rules:\n  - id: a\n    match: { command: rm }\n    action: kill\n"

    func testSettingsLoadAndDefaultToKill() throws {
        let plain = try Policy.load(yaml: "version: 1\n" + rules, file: "p.yaml")
        XCTAssertEqual([plain.preload, plain.tracedExec, plain.ptrace], [.kill, .kill, .kill])
        let set = try Policy.load(
            yaml: "version: 1\nsettings: { preload: alert, traced_exec: stop, ptrace: allow }\n" + rules, file: "p.yaml"
        )
        XCTAssertEqual(set.preload, .alert)
        XCTAssertEqual(set.tracedExec, .stop)
        XCTAssertEqual(set.ptrace, .allow)
    }

    func testBadValuesNameFileLineColumn() {
        for key in ["preload", "traced_exec", "ptrace"] {
            let column = 2 + key.count + 3  // the value after "  KEY: "

            let yaml = "version: 1\nsettings:\n  \(key): deny\n" + rules
            XCTAssertThrowsError(try Policy.load(yaml: yaml, file: "p.yaml"), key) { error in
                XCTAssertEqual(
                    "\(error)", "p.yaml:3:\(column): unknown action 'deny'; write one of: allow, alert, stop, kill.")
            }
        }
        XCTAssertThrowsError(try Policy.load(yaml: "version: 1\nsettings: { prelod: kill }\n" + rules, file: "p.yaml"))
        {
            XCTAssertTrue(
                "\($0)".hasPrefix("p.yaml:2:13: unknown key 'prelod' in settings; did you mean 'preload'?"), "\($0)")
        }
    }

    /// `settings.tamper` (issue 12, class 7): default kill, the shipped policies kill (audit alerts), and a value
    /// the kernel cannot carry out (stop: the sender of a stop signal is killed at its next call) is refused with
    /// its file:line:column.
    func testTamperSetting() throws {
        XCTAssertEqual(try Policy.load(yaml: "version: 1\n" + rules, file: "p.yaml").tamper, .kill)
        let alert = try Policy.load(yaml: "version: 1\nsettings: { tamper: alert }\n" + rules, file: "p.yaml")
        XCTAssertEqual(alert.tamper, .alert)
        XCTAssertThrowsError(try Policy.load(yaml: "version: 1\nsettings:\n  tamper: stop\n" + rules, file: "p.yaml")) {
            XCTAssertEqual("\($0)", "p.yaml:3:11: unknown action 'stop'; write one of: kill, alert, allow.")
        }
        for name in ["default.yaml", "strict.yaml", "ci.yaml"] {
            XCTAssertEqual(try Policy.load(path: PolicyShippedTests.policyPath(name)).tamper, .kill, name)
        }
        XCTAssertEqual(try Policy.load(path: PolicyShippedTests.policyPath("audit.yaml")).tamper, .alert)
        XCTAssertEqual(Policy.embeddedDefault.tamper, .kill)
        XCTAssertTrue(PolicyTool.show(PolicyShippedTests.policyPath("audit.yaml")).stdout.contains("tamper: alert"))
    }

    func testShippedPoliciesDenyOrAlert() throws {
        for name in ["default.yaml", "strict.yaml", "ci.yaml"] {
            let p = try Policy.load(path: PolicyShippedTests.policyPath(name))
            XCTAssertEqual([p.preload, p.tracedExec, p.ptrace], [.kill, .kill, .kill], name)
        }
        let audit = try Policy.load(path: PolicyShippedTests.policyPath("audit.yaml"))
        XCTAssertEqual([audit.preload, audit.tracedExec, audit.ptrace], [.alert, .alert, .alert])
        let embedded = Policy.embeddedDefault
        XCTAssertEqual([embedded.preload, embedded.tracedExec, embedded.ptrace], [.kill, .kill, .kill])
    }

    func testPolicyShowWritesThemOut() {
        let out = PolicyTool.show(PolicyShippedTests.policyPath("audit.yaml")).stdout
        for line in ["preload: alert", "traced_exec: alert", "ptrace: alert"] {
            XCTAssertTrue(out.contains(line), line)
        }
    }

    func testLibraryNamesAsTheLoaderSplitsThem() {
        XCTAssertEqual(
            LoaderLibraries.names(["LD_PRELOAD=/a.so /b.so:c.so", "LD_AUDIT=/d.so:e.so", "PATH=/x", "LD_PRELOAD="]),
            ["/a.so", "/b.so", "c.so", "/d.so", "e.so"])
    }

    func testWhichLibrariesAreTheSystems() {
        let libc = LoaderLibraries.Found(realPath: "/usr/lib/x86_64-linux-gnu/libc.so.6", rootOwnedReadOnly: true)
        let files: [String: LoaderLibraries.Found] = [
            "/usr/lib/x86_64-linux-gnu/libc.so.6": libc,
            "/lib/x86_64-linux-gnu/libc.so.6": libc,
            "/usr/lib/link-to-tmp.so": .init(realPath: "/tmp/evil.so", rootOwnedReadOnly: true),
            "/usr/lib/group-writable.so": .init(realPath: "/usr/lib/group-writable.so", rootOwnedReadOnly: false),
            "/tmp/evil.so": .init(realPath: "/tmp/evil.so", rootOwnedReadOnly: true),
            "/usr/local/lib/x.so": .init(realPath: "/usr/local/lib/x.so", rootOwnedReadOnly: true),
        ]
        func outside(_ names: [String], libraryPath: String? = nil) -> [String] {
            LoaderLibraries.outside(names, libraryPath: libraryPath) { files[$0] }
        }
        // The system's own: no cry of wolf.
        XCTAssertEqual(
            outside(["/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "libc.so.6"]), [])
        XCTAssertEqual(outside(["libc.so.6"], libraryPath: "/usr/lib/x86_64-linux-gnu"), [])
        // Everything else.
        XCTAssertEqual(outside(["/tmp/evil.so"]), ["/tmp/evil.so"])
        XCTAssertEqual(outside(["/usr/lib/link-to-tmp.so"]), ["/usr/lib/link-to-tmp.so"])
        XCTAssertEqual(outside(["/usr/lib/group-writable.so"]), ["/usr/lib/group-writable.so"])
        XCTAssertEqual(outside(["/usr/local/lib/x.so"]), ["/usr/local/lib/x.so"])
        XCTAssertEqual(outside(["/usr/lib/missing.so"]), ["/usr/lib/missing.so"], "could be created before ld.so looks")
        XCTAssertEqual(outside(["/usr/lib/../../tmp/evil.so"]), ["/usr/lib/../../tmp/evil.so"])
        XCTAssertEqual(outside(["/usr/lib/$LIB/x.so", "$ORIGIN/x.so"]), ["/usr/lib/$LIB/x.so", "$ORIGIN/x.so"])
        XCTAssertEqual(outside(["./evil.so", "sub/evil.so"]), ["./evil.so", "sub/evil.so"])
        XCTAssertEqual(outside(["libc.so.6"], libraryPath: "/tmp/libs"), ["libc.so.6"])
        XCTAssertEqual(outside(["libc.so.6"], libraryPath: "/usr/lib:"), ["libc.so.6"], "an empty entry is the cwd")
    }

    /// What `settings.ptrace` judges: a process outside the trees, or one of the tree whose exec was judged already;
    /// a tracer following its child from before the exec (strace -f) is not, nor a call on no process.
    func testPtraceJudgesOutsidersAndJudgedProcessesOfTheTree() {
        func event(tracked: Bool, execed: Bool, target: Int32 = 42) -> PtraceEvent {
            PtraceEvent(op: .vmWrite, pid: 7, ppid: 1, target: target, targetProcess: target, targetTracked: tracked,
                targetExeced: execed)
        }
        XCTAssertTrue(event(tracked: false, execed: false).judged, "outside the trees")
        XCTAssertTrue(event(tracked: true, execed: true).judged, "a process of the tree after its exec was judged")
        XCTAssertFalse(event(tracked: true, execed: false).judged, "a child of the tree before its exec")
        XCTAssertFalse(event(tracked: false, execed: false, target: 0).judged, "no such process")
    }
}
