import Foundation
import XCTest

/// File rules (`files:`) on the real kernel: what any process of the guarded tree does to a protected path —
/// in Python, Node, Perl, a shell builtin, a coreutils tool or a compiled program — is denied (the program sees
/// EACCES, the file keeps its bytes and its name) or, for secret reads, the reader is killed before it reads a
/// byte. Every case has victims in a tree outside every scratch place (/srv/cg-ft-UUID), whose names and bytes
/// are compared with a snapshot afterwards: an assertion names what was lost.
final class FileRuleTests: XCTestCase {
    /// The brief's policy; `~/.cache/*` is added to the scratch places so that work in the usual caches (create,
    /// write AND delete) is allowed, as `testWorkInTheWorkspaceTmpAndCachesIsUntouched` expects.
    static func policy(victim v: String) -> String {
        """
        version: 1
        name: file-rules-test
        mode: enforce
        default: allow
        rules:
          - { id: noop, match: { command: this-program-does-not-exist }, action: alert }
        files:
          - id: key-tool-may-read
            paths: { under: ['\(v)/secrets/*'] }
            access: [read]
            process: { command: [md5sum] }
            action: allow
          - id: secrets
            paths: { under: ['\(v)/secrets/*'] }
            access: [read]
            action: kill
            severity: critical
          - id: protected-writes
            paths: { under: ['\(v)/data/*'] }
            access: [write, create]
            action: deny
          - id: destructive-outside-scratch
            paths: { outside: ['${workspace}', '/tmp/*', '/var/tmp/*', '/dev/*', '/proc/*', '~/.cache/*'] }
            access: [delete, rename, truncate]
            action: deny
            severity: critical

        """
    }

    static let destructive = "destructive-outside-scratch"
    static let writes = "protected-writes"

    var dir: URL!
    /// The victim tree, outside every scratch place.
    var victim: String!
    /// The workspace (`--workspace`), under the temporary directory.
    var ws: String!
    var policyPath: String!
    /// The secret file and the bytes it holds (a token found nowhere else).
    var secret: String!
    var token: String!
    /// Scratch directories outside `dir` this test made (removed in tearDown).
    var scratch: [String] = []
    var runs = 0

    override func setUpWithError() throws {
        try Guard.requireRoot()
        dir = try Guard.tempDir()
        let id = UUID().uuidString.prefix(13).lowercased()
        victim = "/srv/cg-ft-\(id)"
        ws = dir.appendingPathComponent("ws").path
        for d in [ws!, victim + "/secrets", victim + "/data", victim + "/cases"] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        secret = victim + "/secrets/key"
        token = "cg-secret-\(UUID().uuidString)"
        try (token + "\n").write(toFile: secret, atomically: false, encoding: .utf8)
        policyPath = dir.appendingPathComponent("policy.yaml").path
        try Self.policy(victim: victim).write(toFile: policyPath, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        let stopped = EnforcementTests.stoppedDescendants(of: getpid())
        XCTAssertEqual(stopped, [], "processes left in state T")
        for pid in stopped { kill(pid, SIGKILL) }
        for d in scratch { try? FileManager.default.removeItem(atPath: d) }
        if let victim { try? FileManager.default.removeItem(atPath: victim) }
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    // MARK: victims

    /// VICTIM/REL/f1 and VICTIM/REL/sub/f2, each holding bytes that name it. Returns VICTIM/REL.
    @discardableResult
    func tree(_ rel: String) throws -> String {
        let d = victim + "/" + rel
        try FileManager.default.createDirectory(atPath: d + "/sub", withIntermediateDirectories: true)
        try "\(rel)/f1: precious bytes\n".write(toFile: d + "/f1", atomically: false, encoding: .utf8)
        try "\(rel)/sub/f2: precious bytes\n".write(toFile: d + "/sub/f2", atomically: false, encoding: .utf8)
        return d
    }

    enum Entry: Equatable {
        case dir
        case file(Data)
        case link(String)
    }

    /// Every name under the victim tree with its bytes (or link target).
    func snapshot() -> [String: Entry] {
        var out: [String: Entry] = [:]
        func walk(_ p: String) {
            guard let type = (try? FileManager.default.attributesOfItem(atPath: p))?[.type] as? FileAttributeType
            else { return }
            switch type {
            case .typeDirectory:
                out[p] = .dir
                for n in (try? FileManager.default.contentsOfDirectory(atPath: p)) ?? [] { walk(p + "/" + n) }
            case .typeSymbolicLink:
                out[p] = .link((try? FileManager.default.destinationOfSymbolicLink(atPath: p)) ?? "?")
            default:
                out[p] = .file((try? Data(contentsOf: URL(fileURLWithPath: p))) ?? Data())
            }
        }
        walk(victim)
        return out
    }

    /// What changed in the victim tree since `before`, one line per name: lost, changed (with the bytes), new.
    func losses(since before: [String: Entry]) -> [String] {
        let after = snapshot()
        var out: [String] = []
        for (p, e) in before.sorted(by: { $0.key < $1.key }) {
            guard let now = after[p] else {
                out.append("LOST \(p)")
                continue
            }
            if now != e { out.append("CHANGED \(p): was \(Self.describe(e)), now \(Self.describe(now))") }
        }
        for p in after.keys.sorted() where before[p] == nil { out.append("NEW \(p)") }
        return out
    }

    static func describe(_ e: Entry) -> String {
        switch e {
        case .dir: return "a directory"
        case .link(let t): return "a symlink to \(t)"
        case .file(let d): return "\(d.count) bytes \(String(decoding: d.prefix(40), as: UTF8.self).debugDescription)"
        }
    }

    func assertVictimIntact(
        _ before: [String: Entry], _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let l = losses(since: before)
        XCTAssertEqual(
            l, [], "\(what): the victim tree was damaged:\n" + l.joined(separator: "\n"), file: file, line: line)
    }

    // MARK: running the guard

    struct Outcome {
        var result: Guard.Result
        var events: [[String: Any]]
        /// `CASE NAME REST...` lines printed by the guarded commands: NAME -> REST.
        var cases: [String: String]
        var eventsText: String
        var fileViolations: [[String: Any]] {
            events.filter { $0["type"] as? String == "file" && $0["rule"] != nil }
        }
        var violations: [[String: Any]] { events.filter { $0["rule"] != nil } }
        var context: String {
            "\n--- stdout:\n\(result.stdout.suffix(6000))\n--- stderr:\n\(result.stderr.suffix(3000))\n--- violations:\n"
                + violations.map(FileRuleTests.brief).joined(separator: "\n")
        }
    }

    static func brief(_ v: [String: Any]) -> String {
        let keys = ["type", "rule", "access", "op", "enforced", "comm", "pid", "path", "path2", "ret"]
        return keys.compactMap { k in v[k].map { "\(k)=\($0)" } }.joined(separator: " ")
    }

    /// `claude-guard run --policy P --workspace WS -o EVENTS EXTRA -- bash -c SCRIPT`.
    func guarded(_ script: String, _ extra: [String] = [], env: [String: String]? = nil) throws -> Outcome {
        runs += 1
        let events = dir.appendingPathComponent("events-\(runs).jsonl").path
        let r = try Guard.run(
            ["run", "--policy", policyPath, "--workspace", ws, "-o", events] + extra + ["--", "bash", "-c", script],
            env: env)
        return try outcome(r, events: events)
    }

    func outcome(_ r: Guard.Result, events: String, stdout: String? = nil) throws -> Outcome {
        let text = (try? String(contentsOfFile: events, encoding: .utf8)) ?? ""
        return Outcome(
            result: r, events: Guard.jsonLines(text), cases: Self.cases(stdout ?? r.stdout), eventsText: text)
    }

    static func cases(_ out: String) -> [String: String] {
        var c: [String: String] = [:]
        for l in out.split(separator: "\n") {
            let w = l.split(separator: " ", maxSplits: 2)
            if w.count >= 2, w[0] == "CASE" { c[String(w[1])] = w.count > 2 ? String(w[2]) : "" }
        }
        return c
    }

    /// Lexical normal form of an absolute path (`.`, `..`, `//` removed); relative paths are returned as given.
    static func normal(_ p: String) -> String {
        guard p.hasPrefix("/") else { return p }
        var parts: [Substring] = []
        for c in p.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// A violation's `access`: one name, or the list of them (an `open(O_WRONLY|O_TRUNC)` is a write and a truncation).
    static func accesses(_ v: [String: Any]) -> Set<String> {
        if let a = v["access"] as? String { return [a] }
        return Set(v["access"] as? [String] ?? [])
    }

    static func isUnder(_ path: String, _ prefix: String) -> Bool {
        let p = normal(path)
        return p == prefix || p.hasPrefix(prefix + "/")
    }

    /// One denied operation: its output line, and a `file` violation naming a path under one of `victims`.
    struct Denied {
        var name: String
        var victims: [String]
        /// The output the program must have printed for this case (`CASE name ...`), as a predicate.
        var printed: (String) -> Bool
        var expected: String
        var access: Set<String>
        var rules: Set<String>
        var needsViolation = true
    }

    /// A case's result must show the call failed with EACCES (a program error, not a kill).
    static func eacces(_ s: String) -> Bool { s.contains("errno=13") || s.contains("EACCES") }

    /// `rc=N` with a program error (1...127) and the tool said "Permission denied".
    static func toolFailed(_ s: String) -> Bool {
        guard let rc = rcOf(s) else { return false }
        return rc >= 1 && rc < 128 && s.contains("Permission denied")
    }

    static func rcOf(_ s: String) -> Int? {
        guard let r = s.range(of: "rc=") else { return nil }
        return Int(s[r.upperBound...].prefix { $0.isNumber })
    }

    /// Checks every case and fails once, listing each case's problems, with the run's output and violations.
    func check(
        _ o: Outcome, _ cases: [Denied], enforced: String = "denied", file: StaticString = #filePath,
        line: UInt = #line
    ) {
        let vs = o.fileViolations
        var problems: [String] = []
        for c in cases {
            let printed = o.cases[c.name]
            if !(printed.map(c.printed) ?? false) {
                problems.append(
                    "\(c.name): the program should have seen \(c.expected); it printed \(printed ?? "nothing")")
            }
            guard c.needsViolation else { continue }
            let mine = vs.filter { v in c.victims.contains { Self.isUnder(v["path"] as? String ?? "", $0) } }
            let ruled = mine.filter { c.rules.contains($0["rule"] as? String ?? "") }
            guard let v = ruled.first(where: { !c.access.isDisjoint(with: Self.accesses($0)) }) ?? ruled.first else {
                problems.append(
                    "\(c.name): no `file` violation of \(c.rules.sorted()) naming a path under \(c.victims)")
                continue
            }
            if c.access.isDisjoint(with: Self.accesses(v)) {
                problems.append(
                    "\(c.name): access \(v["access"] ?? "nil"), expected one of \(c.access.sorted()): \(Self.brief(v))")
            }
            if v["enforced"] as? String != enforced {
                problems.append("\(c.name): enforced \(v["enforced"] ?? "nil"), expected \(enforced): \(Self.brief(v))")
            }
            if !(v["path"] as? String ?? "").hasPrefix("/") {
                problems.append("\(c.name): the violation's path is not absolute: \(Self.brief(v))")
            }
        }
        if !problems.isEmpty {
            XCTFail(problems.joined(separator: "\n") + o.context, file: file, line: line)
        }
    }

    // MARK: fixtures

    /// The Python side of the Python cases: `CASE NAME OP PATH [TARGET]`; prints `CASE NAME ok` or
    /// `CASE NAME errno=N ExceptionName`.
    static let pythonOp = """
        import os, shutil, sys
        case, op, p = sys.argv[1:4]
        try:
            if op == 'rmtree': shutil.rmtree(p)
            elif op == 'remove': os.remove(p)
            elif op == 'rename': os.rename(p, sys.argv[4])
            elif op == 'truncate': open(p, 'w').close()
            elif op == 'dirfd':
                fd = os.open(os.path.dirname(p), os.O_RDONLY | os.O_DIRECTORY)
                os.unlink(os.path.basename(p), dir_fd=fd)
            else: raise SystemExit('unknown op ' + op)
            print('CASE', case, 'ok', flush=True)
        except OSError as e:
            print('CASE', case, 'errno=%d' % e.errno, type(e).__name__, e, flush=True)
        """

    static let nodeOp = """
        const fs = require('fs');
        const [name, op, p] = process.argv.slice(1);
        try {
          if (op === 'rm') fs.rmSync(p, { recursive: true, force: true });
          else if (op === 'unlink') fs.unlinkSync(p);
          else if (op === 'write') fs.writeFileSync(p, 'pwned by node');
          else throw new Error('unknown op ' + op);
          console.log('CASE', name, 'ok');
        } catch (e) {
          console.log('CASE', name, 'errno=' + (-e.errno), e.code, e.message);
        }
        """

    static let cFixture = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <string.h>
        #include <unistd.h>

        static int done(const char *name, int r) {
            if (r < 0) { printf("CASE %s errno=%d %s\\n", name, errno, strerror(errno)); return 1; }
            printf("CASE %s ok\\n", name);
            return 0;
        }
        static int neg(int r) { return r < 0 ? -errno : r; }

        int main(int argc, char **argv) {
            setvbuf(stdout, NULL, _IONBF, 0);
            if (argc < 4) return 2;
            const char *name = argv[1], *op = argv[2], *p = argv[3];
            if (!strcmp(op, "unlink")) return done(name, unlink(p));
            if (!strcmp(op, "rename") && argc > 4) return done(name, rename(p, argv[4]));
            if (!strcmp(op, "truncate")) return done(name, truncate(p, 0));
            if (!strcmp(op, "seq")) {
                char a[4096], b[4096], m[4096];
                snprintf(a, sizeof a, "%s/seq-a", p);
                snprintf(b, sizeof b, "%s/seq-b", p);
                snprintf(m, sizeof m, "%s/seq-missing", p);
                printf("SEQ pid %d\\n", getpid());
                int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
                printf("SEQ open %s %d\\n", a, neg(fd));
                if (fd >= 0) { if (write(fd, "abc", 3) != 3) return 1; close(fd); }
                fd = open(a, O_RDONLY);
                printf("SEQ open %s %d\\n", a, neg(fd));
                if (fd >= 0) close(fd);
                printf("SEQ open %s %d\\n", m, neg(open(m, O_RDONLY)));
                printf("SEQ rename %s %d %s\\n", a, neg(rename(a, b)), b);
                printf("SEQ truncate %s %d\\n", b, neg(truncate(b, 0)));
                printf("SEQ unlink %s %d\\n", b, neg(unlink(b)));
                return 0;
            }
            return 2;
        }
        """

    /// The C fixture, compiled with /usr/bin/cc into the test's temporary directory.
    func compileFixture() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else {
            throw XCTSkip("/usr/bin/cc is not installed: the C fixture cannot be built")
        }
        let src = dir.appendingPathComponent("fx.c").path
        let bin = dir.appendingPathComponent("fx").path
        try Self.cFixture.write(toFile: src, atomically: true, encoding: .utf8)
        let r = try Guard.exec("/usr/bin/cc", ["-O1", "-o", bin, src])
        XCTAssertEqual(r.status, 0, "cc failed: \(r.stderr)")
        return bin
    }

    // MARK: Python

    func pythonCases(_ python: String, tag t: String) throws {
        let rmtree = try tree("cases/\(t)-rmtree")
        let remove = try tree("cases/\(t)-remove")
        let rename = try tree("cases/\(t)-rename")
        let renameOut = try tree("cases/\(t)-rename-out")
        let truncate = try tree("cases/\(t)-truncate")
        let dirfd = try tree("cases/\(t)-dirfd")
        let before = snapshot()
        let ops = [
            "\(t)-rmtree rmtree \(rmtree)", "\(t)-remove remove \(remove)/f1",
            "\(t)-rename rename \(rename)/f1 \(rename)/f1.renamed",
            "\(t)-rename-out rename \(renameOut)/f1 \(ws!)/stolen-\(t)", "\(t)-truncate truncate \(truncate)/f1",
            "\(t)-dirfd dirfd \(dirfd)/f1",
        ]
        let script = ops.map { "'\(python)' -c \"$CG_PYOP\" \($0)" }.joined(separator: "\n")
        let o = try guarded(script, env: ["CG_PYOP": Self.pythonOp])
        assertVictimIntact(before, "Python (\(python))")
        XCTAssertEqual(o.result.status, 3, "a file violation makes the run exit 3" + o.context)
        let perm: (String) -> Bool = { $0.hasPrefix("errno=13 PermissionError") }
        let d = Self.destructive
        check(
            o,
            [
                Denied(
                    name: "\(t)-rmtree", victims: [rmtree], printed: perm, expected: "PermissionError (errno 13)",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "\(t)-remove", victims: [remove], printed: perm, expected: "PermissionError (errno 13)",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "\(t)-rename", victims: [rename], printed: perm, expected: "PermissionError (errno 13)",
                    access: ["rename"], rules: [d]),
                // Across directories Landlock may answer EXDEV (the REFER right) instead of EACCES.
                Denied(
                    name: "\(t)-rename-out", victims: [renameOut],
                    printed: { perm($0) || $0.hasPrefix("errno=18") }, expected: "errno 13 (or 18, EXDEV)",
                    access: ["rename", "delete"], rules: [d]),
                Denied(
                    name: "\(t)-truncate", victims: [truncate], printed: perm, expected: "PermissionError (errno 13)",
                    access: ["truncate"], rules: [d]),
                Denied(
                    name: "\(t)-dirfd", victims: [dirfd], printed: perm, expected: "PermissionError (errno 13)",
                    access: ["delete"], rules: [d]),
            ])
    }

    func testPythonDeletesRenamesTruncationsAndDirFdUnlinksAreDenied() throws {
        try pythonCases(Guard.python, tag: "py")
    }

    /// The pyenv shim: a bash script that runs `pyenv exec`, which runs the real interpreter.
    func testPythonThroughThePyenvShimIsDeniedToo() throws {
        guard let shim = ProcFSLite.which("python3"),
            URL(fileURLWithPath: shim).resolvingSymlinksInPath().path
                != URL(fileURLWithPath: Guard.python).resolvingSymlinksInPath().path
        else { throw XCTSkip("python3 on PATH is \(Guard.python) itself: there is no shim to test") }
        try pythonCases(shim, tag: "pyshim")
    }

    // MARK: Node, Perl

    func testNodeRmSyncUnlinkSyncAndWriteFileSyncAreDenied() throws {
        guard
            let node = ["/usr/bin/node", "/usr/local/bin/node"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { throw XCTSkip("node is not installed (/usr/bin/node)") }
        let rm = try tree("cases/node-rm")
        let unlink = try tree("cases/node-unlink")
        let write = try tree("data/node-write")
        let before = snapshot()
        let script = [
            "node-rm rm \(rm)", "node-unlink unlink \(unlink)/f1", "node-write write \(write)/f1",
        ].map { "'\(node)' -e \"$CG_NODEOP\" \($0)" }.joined(separator: "\n")
        let o = try guarded(script, env: ["CG_NODEOP": Self.nodeOp])
        assertVictimIntact(before, "Node")
        XCTAssertEqual(o.result.status, 3, o.context)
        check(
            o,
            [
                Denied(
                    name: "node-rm", victims: [rm], printed: Self.eacces, expected: "EACCES", access: ["delete"],
                    rules: [Self.destructive]),
                Denied(
                    name: "node-unlink", victims: [unlink], printed: Self.eacces, expected: "EACCES",
                    access: ["delete"], rules: [Self.destructive]),
                // writeFileSync opens with O_WRONLY|O_CREAT|O_TRUNC: a write (protected-writes) and a truncation.
                Denied(
                    name: "node-write", victims: [write], printed: Self.eacces, expected: "EACCES",
                    access: ["write", "truncate"], rules: [Self.writes, Self.destructive]),
            ])
    }

    func testPerlUnlinkIsDenied() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/perl") else {
            throw XCTSkip("perl is not installed (/usr/bin/perl)")
        }
        let v = try tree("cases/perl")
        let before = snapshot()
        let o = try guarded(
            "/usr/bin/perl -e 'if (unlink($ARGV[0])) { print \"CASE perl ok\\n\" } "
                + "else { printf \"CASE perl errno=%d %s\\n\", $!+0, $! }' \(v)/f1")
        assertVictimIntact(before, "Perl unlink")
        XCTAssertEqual(o.result.status, 3, o.context)
        check(
            o,
            [
                Denied(
                    name: "perl", victims: [v], printed: Self.eacces, expected: "errno 13", access: ["delete"],
                    rules: [Self.destructive])
            ])
    }

    // MARK: the shell and the tools

    func testShellRedirectionsCoreutilsAndACompiledProgramAreDenied() throws {
        let fx = try compileFixture()
        let trunc = try tree("data/sh-trunc")
        let append = try tree("data/sh-append")
        let mv = try tree("cases/mv")
        let rmrf = try tree("cases/rm-rf")
        let find = try tree("cases/find")
        let shred = try tree("data/shred")
        let sed = try tree("data/sed")
        let c = try tree("cases/c")
        try "cases/c/sub/f3: precious bytes\n".write(toFile: c + "/sub/f3", atomically: false, encoding: .utf8)
        let before = snapshot()
        // Each command's output goes to the case's line, with its status.
        let cmds: [(String, String)] = [
            ("sh-trunc", ": > \(trunc)/f1"),
            ("sh-append", "echo pwned >> \(append)/f1"),
            ("mv-out", "mv \(mv)/f1 \(ws!)/"),
            ("mv-in-place", "mv \(mv)/sub/f2 \(mv)/sub/f2.moved"),
            ("rm-rf", "rm -rf \(rmrf)"),
            ("find-delete", "find \(find) -delete"),
            ("shred-u", "shred -u \(shred)/f1"),
            ("sed-i", "sed -i s/precious/pwned/ \(sed)/f1"),
        ]
        var script = cmds.map { name, cmd in
            "out=$( { \(cmd); } 2>&1 ); rc=$?; echo \"CASE \(name) rc=$rc ${out//$'\\n'/ }\""
        }.joined(separator: "\n")
        script +=
            "\n'\(fx)' c-unlink unlink \(c)/f1\n'\(fx)' c-rename rename \(c)/sub/f2 \(c)/sub/f2.x\n"
            + "'\(fx)' c-truncate truncate \(c)/sub/f3\n"
        let o = try guarded(script)
        assertVictimIntact(before, "shell, coreutils and C")
        XCTAssertEqual(o.result.status, 3, o.context)
        let d = Self.destructive, w = Self.writes
        let tool = Self.toolFailed
        check(
            o,
            [
                // `>` opens O_WRONLY|O_CREAT|O_TRUNC: a write (protected-writes) and a truncation.
                Denied(
                    name: "sh-trunc", victims: [trunc], printed: tool, expected: "Permission denied",
                    access: ["write", "truncate"], rules: [w, d]),
                Denied(
                    name: "sh-append", victims: [append], printed: tool, expected: "Permission denied",
                    access: ["write"], rules: [w]),
                Denied(
                    name: "mv-out", victims: [mv + "/f1"], printed: tool, expected: "Permission denied",
                    access: ["rename", "delete"], rules: [d]),
                Denied(
                    name: "mv-in-place", victims: [mv + "/sub"], printed: tool, expected: "Permission denied",
                    access: ["rename"], rules: [d]),
                Denied(
                    name: "rm-rf", victims: [rmrf], printed: tool, expected: "Permission denied",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "find-delete", victims: [find], printed: tool, expected: "Permission denied",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "shred-u", victims: [shred], printed: tool, expected: "Permission denied",
                    access: ["write", "truncate", "delete", "rename"], rules: [w, d]),
                // sed -i makes a temporary file beside the original (a create under data/), then renames it over.
                Denied(
                    name: "sed-i", victims: [sed], printed: tool, expected: "Permission denied",
                    access: ["create", "write", "rename"], rules: [w, d]),
                Denied(
                    name: "c-unlink", victims: [c + "/f1"], printed: Self.eacces, expected: "errno 13",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "c-rename", victims: [c + "/sub/f2"], printed: Self.eacces, expected: "errno 13",
                    access: ["rename"], rules: [d]),
                Denied(
                    name: "c-truncate", victims: [c + "/sub/f3"], printed: Self.eacces, expected: "errno 13",
                    access: ["truncate"], rules: [d]),
            ])
    }

    /// Path spellings: relative to the cwd, through `..`, through a symlink in the workspace, and a hard link made
    /// under guard (which must fail, or must not let a truncation through the link reach the victim).
    func testRelativeDotDotSymlinkedAndHardLinkedPathsAreDenied() throws {
        let rel = try tree("data/rel")
        let dots = try tree("cases/dots")
        let linked = try tree("cases/linked")
        let linked2 = try tree("cases/linked2")
        let linked3 = try tree("cases/linked3")
        let hl = try tree("data/hl")
        try FileManager.default.createSymbolicLink(atPath: ws + "/link", withDestinationPath: linked)
        try FileManager.default.createSymbolicLink(atPath: ws + "/link2", withDestinationPath: linked2)
        try FileManager.default.createSymbolicLink(atPath: ws + "/link3", withDestinationPath: linked3)
        let before = snapshot()
        let cmds: [(String, String)] = [
            ("relative-dotdot", "cd \(rel)/sub && rm ../f1"),
            ("relative", "cd \(dots) && rm -f f1"),
            ("dotdot-spelling", "rm -rf \(dots)/sub/..//./sub"),
            ("symlink-dir", "rm -rf \(ws!)/link/"),
            ("symlink-file", "cd \(ws!) && rm -f link2/f1"),
        ]
        var script = cmds.map { name, cmd in
            "out=$( { \(cmd); } 2>&1 ); rc=$?; echo \"CASE \(name) rc=$rc ${out//$'\\n'/ }\""
        }.joined(separator: "\n")
        script += "\n\(Guard.python) -c \"$CG_PYOP\" symlink-python remove \(ws!)/link3/f1"
        // The hard link: made under guard into the workspace, then truncated and appended to there.
        script += """

            ln \(hl)/f1 \(ws!)/hl 2>&1; echo "CASE hardlink-ln rc=$?"
            if [ -e \(ws!)/hl ]; then
              : > \(ws!)/hl; echo "CASE hardlink-trunc rc=$?"
              echo pwned >> \(ws!)/hl; echo "CASE hardlink-append rc=$?"
            fi
            """
        let o = try guarded(script, env: ["CG_PYOP": Self.pythonOp])
        assertVictimIntact(before, "relative/../symlink/hard-link spellings")
        XCTAssertEqual(o.result.status, 3, o.context)
        let d = Self.destructive, tool = Self.toolFailed
        check(
            o,
            [
                Denied(
                    name: "relative-dotdot", victims: [rel], printed: tool, expected: "Permission denied",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "relative", victims: [dots + "/f1"], printed: tool, expected: "Permission denied",
                    access: ["delete"], rules: [d]),
                Denied(
                    name: "dotdot-spelling", victims: [dots + "/sub"], printed: tool, expected: "Permission denied",
                    access: ["delete"], rules: [d]),
                // The guard may name the path through the link or resolved; either way it must record the denial.
                Denied(
                    name: "symlink-dir", victims: [linked, ws + "/link"], printed: tool,
                    expected: "Permission denied", access: ["delete"], rules: [d]),
                Denied(
                    name: "symlink-file", victims: [linked2 + "/f1", ws + "/link2/f1"], printed: tool,
                    expected: "Permission denied", access: ["delete"], rules: [d]),
                Denied(
                    name: "symlink-python", victims: [linked3 + "/f1", ws + "/link3/f1"],
                    printed: { $0.hasPrefix("errno=13") }, expected: "PermissionError (errno 13)", access: ["delete"],
                    rules: [d]),
            ])
        let ln = o.cases["hardlink-ln"] ?? "nothing"
        if Self.rcOf(ln) == 0 {
            // The link exists: the victim's bytes are what matters (checked above); say what the shell saw.
            XCTAssertNotEqual(
                Self.rcOf(o.cases["hardlink-trunc"] ?? ""), 0,
                "hard link \(ws!)/hl made under guard to \(hl)/f1: `: > hl` succeeded" + o.context)
        }
    }

    // MARK: secrets

    func testSecretReadsKillTheReaderBeforeItReadsAByte() throws {
        let s = secret!, w = ws!
        let before = snapshot()
        var readers: [(String, String)] = [
            ("py-read", "\(Guard.python) -c 'import sys; print(open(sys.argv[1]).read())' \(s)"),
            (
                "py-mmap",
                "\(Guard.python) -c 'import mmap, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
                    + "print(mmap.mmap(fd, 0, prot=mmap.PROT_READ)[:].decode())' \(s)"
            ),
            ("bash-read", "bash -c 'read -r line < \"$0\"; echo \"$line\"' \(s)"),
            ("cat", "cat \(s)"),
            ("cp-cat", "bash -c 'cp \"$0\" \"$1\" && cat \"$1\"' \(s) \(w)/copied"),
            // Other spellings of the same file.
            ("dotdot-cat", "cat \(victim!)/secrets/../secrets//key"),
            ("relative-cat", "bash -c 'cd \(victim!)/secrets && cat key'"),
            ("symlink-cat", "bash -c 'ln -s \(s) \(w)/sl && cat \(w)/sl'"),
        ]
        let node = FileManager.default.isExecutableFile(atPath: "/usr/bin/node")
        if node {
            readers.append(
                (
                    "node-read",
                    "/usr/bin/node -e 'console.log(require(\"fs\").readFileSync(process.argv[1], \"utf8\"))' \(s)"
                ))
        }
        // A hard link made under guard (not asked by the brief: the same inode under an unprotected name).
        let extra = [("hardlink-cat", "bash -c 'ln \(s) \(w)/hl && cat \(w)/hl'")]
        let script = (readers + extra).map { name, cmd in
            "\(cmd) > \(w)/out-\(name) 2>&1; echo \"CASE \(name) rc=$?\""
        }.joined(separator: "\n")
        let o = try guarded(script)
        assertVictimIntact(before, "secret reads")
        XCTAssertEqual(o.result.status, 3, o.context)
        var problems: [String] = []
        for (name, _) in readers {
            let out = (try? String(contentsOfFile: "\(w)/out-\(name)", encoding: .utf8)) ?? ""
            if out.contains(token) { problems.append("\(name): the secret's bytes reached the reader's output") }
            if o.cases[name] != "rc=137" {
                problems.append(
                    "\(name): not SIGKILLed (\(o.cases[name] ?? "no status")); it printed: \(out.prefix(300))")
            }
        }
        if !problems.isEmpty { XCTFail(problems.joined(separator: "\n") + o.context) }
        let hlOut = (try? String(contentsOfFile: "\(w)/out-hardlink-cat", encoding: .utf8)) ?? ""
        XCTAssertFalse(
            hlOut.contains(token),
            "hardlink-cat: `ln SECRET WS/hl && cat WS/hl` under guard read the secret (rc \(o.cases["hardlink-cat"] ?? "?"))"
        )
        // The secret's bytes appear nowhere: not in any file the tree or the guard wrote, nor on its stdout/stderr.
        XCTAssertFalse(o.result.stdout.contains(token), "the secret reached the run's stdout")
        XCTAssertFalse(o.result.stderr.contains(token), "the secret reached the run's stderr")
        // (Not the secret itself: a symlink to it, or a hard link the tree made, is no copy of its bytes.)
        var st = stat()
        let secretInode = stat(s, &st) == 0 ? st.st_ino : 0
        let leaked = (FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []).filter { rel in
            let p = dir.appendingPathComponent(rel).path
            var l = stat()
            guard lstat(p, &l) == 0, (l.st_mode & S_IFMT) == S_IFREG, l.st_ino != secretInode,
                let d = FileManager.default.contents(atPath: p)
            else { return false }
            return d.range(of: Data(token.utf8)) != nil
        }
        XCTAssertEqual(leaked, [], "files under \(dir.path) holding the secret's bytes")
        // One kill violation of `secrets` per killed reader, each a read of the secret.
        let kills = o.fileViolations.filter { $0["rule"] as? String == "secrets" }
        let killedReaders = o.cases.values.filter { $0 == "rc=137" }.count
        XCTAssertGreaterThanOrEqual(kills.count, killedReaders, "a `secrets` violation per killed reader" + o.context)
        for v in kills {
            XCTAssertEqual(v["enforced"] as? String, "killed", Self.brief(v))
            XCTAssertEqual(Self.accesses(v), ["read"], Self.brief(v))
            XCTAssertTrue(
                [s, w + "/sl", w + "/hl"].contains(Self.normal(v["path"] as? String ?? "")),
                "the violation names the secret: \(Self.brief(v))")
        }
        if !node { print("FileRuleTests: node is not installed: the node-read case was not run") }
    }

    func testTheExceptionProgramReadsTheSecret() throws {
        let expected = try Guard.exec("/usr/bin/md5sum", [secret])
        XCTAssertEqual(expected.status, 0)
        let o = try guarded("md5sum \(secret!)")
        XCTAssertEqual(o.result.status, 0, "md5sum is allowed to read the secret (key-tool-may-read)" + o.context)
        XCTAssertTrue(
            o.result.stdout.contains(expected.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            "md5sum printed its hash" + o.context)
        XCTAssertEqual(o.fileViolations.map(Self.brief), [], "no violation for the exception program")
    }

    // MARK: what is allowed

    func testWorkInTheWorkspaceTmpAndCachesIsUntouched() throws {
        let id = UUID().uuidString.prefix(8)
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let dirs = [
            ws + "/work", "/tmp/cg-ft-\(id)", "/var/tmp/cg-ft-\(id)", home + "/.cache/cg-ft-\(id)",
        ]
        scratch += dirs.dropFirst()
        try tree("cases/untouched")
        let before = snapshot()
        let py = """
            import os, shutil, sys
            for d in sys.argv[1:]:
                try:
                    os.makedirs(d + '/tree/sub')
                    open(d + '/tree/sub/f', 'w').write('x')
                    open(d + '/a', 'w').write('first')
                    open(d + '/a', 'a').write(' more')
                    open(d + '/a', 'w').write('second')
                    os.rename(d + '/a', d + '/b')
                    open(d + '/c', 'w').write('gone soon')
                    os.remove(d + '/c')
                    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
                    open(d + '/e', 'w').close()
                    os.unlink('e', dir_fd=fd)
                    shutil.rmtree(d + '/tree')
                    print('CASE py:' + d, 'ok', flush=True)
                except OSError as e:
                    print('CASE py:' + d, 'errno=%d' % e.errno, e, flush=True)
            """
        var script = "\(Guard.python) -c \"$CG_PY\" \(dirs.joined(separator: " "))\n"
        for d in dirs {
            script += """
                out=$( { cd \(d) && echo one > s && echo two >> s && : > t && mv s u && sed -i s/one/ONE/ u \
                && rm -f t && mkdir -p r/s && touch r/s/x && rm -rf r && cp u v && rm v; } 2>&1 )
                rc=$?; echo "CASE sh:\(d) rc=$rc"; echo "$out"

                """
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/node") {
            let js =
                "const fs=require('fs'),d=process.argv[1];fs.writeFileSync(d+'/n','node');"
                + "fs.renameSync(d+'/n',d+'/n2');fs.mkdirSync(d+'/nt/x',{recursive:true});"
                + "fs.rmSync(d+'/nt',{recursive:true,force:true});fs.unlinkSync(d+'/n2');console.log('CASE node:'+d+' ok')"
            for d in dirs { script += "/usr/bin/node -e \"\(js)\" \(d) 2>&1\n" }
        }
        let o = try guarded(script, env: ["CG_PY": py])
        assertVictimIntact(before, "scratch work")
        XCTAssertEqual(o.result.status, 0, "nothing here is a violation" + o.context)
        XCTAssertEqual(o.violations.map(Self.brief), [], "no violation for work in scratch places")
        for d in dirs {
            XCTAssertEqual(o.cases["py:" + d], "ok", "Python in \(d)" + o.context)
            XCTAssertEqual(o.cases["sh:" + d], "rc=0", "the shell in \(d)" + o.context)
            if FileManager.default.isExecutableFile(atPath: "/usr/bin/node") {
                XCTAssertEqual(o.cases["node:" + d], "ok", "Node in \(d)" + o.context)
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).sorted()
            XCTAssertEqual(names, ["b", "u"], "what is left in \(d)")
            XCTAssertEqual(try? String(contentsOfFile: d + "/b", encoding: .utf8), "second", d)
            XCTAssertEqual(try? String(contentsOfFile: d + "/u", encoding: .utf8), "ONE\ntwo\n", d)
        }
    }

    // MARK: audit

    func testAuditModeDeniesNothingAndLogsWouldDeny() throws {
        let v = try tree("cases/audit")
        let o = try guarded("rm \(v)/f1; echo \"CASE audit-rm rc=$?\"", ["--audit"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: v + "/f1"), "audit denies nothing: rm took effect")
        XCTAssertEqual(o.cases["audit-rm"], "rc=0", o.context)
        XCTAssertEqual(o.result.status, 3, "a violation, even in audit mode, makes the run exit 3" + o.context)
        let e = o.fileViolations.first { Self.normal($0["path"] as? String ?? "") == v + "/f1" }
        XCTAssertNotNil(e, "a `file` violation naming \(v)/f1" + o.context)
        if let e {
            XCTAssertEqual(e["enforced"] as? String, "would-deny", Self.brief(e))
            XCTAssertEqual(e["rule"] as? String, Self.destructive, Self.brief(e))
            XCTAssertTrue(Self.accesses(e).contains("delete"), Self.brief(e))
            XCTAssertEqual(e["action"] as? String, "deny", Self.brief(e))
        }
    }

    // MARK: -p PID

    /// A bash that waits for a go-file, then runs `script`; guarded with `-p` once the guard is ready.
    /// The go-file is a FIFO the bash blocks on (a `read` builtin): no `sleep` children come and go while the guard
    /// seeds the tree (seeding a child that exits mid-scan once left a dead PID tracked and the guard waiting).
    func guardRunningAgent(_ script: String) throws -> (Outcome, String) {
        let go = dir.appendingPathComponent("go").path
        let out = dir.appendingPathComponent("agent.out").path
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/bin/bash")
        XCTAssertEqual(mkfifo(go, 0o600), 0, "mkfifo \(go)")
        agent.arguments = ["-c", "read -r _ < \(go)\n" + script]
        agent.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        agent.standardError = agent.standardOutput
        agent.standardInput = FileHandle.nullDevice
        try agent.run()
        defer {
            if agent.isRunning { kill(agent.processIdentifier, SIGKILL) }
            agent.waitUntilExit()
        }
        let events = dir.appendingPathComponent("events-p.jsonl").path
        let bg = try Guard.Background([
            "-p", String(agent.processIdentifier), "--policy", policyPath, "--workspace", ws, "-o", events,
        ])
        try bg.waitReady()
        // Go: open the FIFO for writing (the agent holds it open for reading) and send a line.
        let deadline = Date().addingTimeInterval(10)
        var fd: Int32 = -1
        while fd < 0 && Date() < deadline && agent.isRunning {
            fd = open(go, O_WRONLY | O_NONBLOCK)
            if fd < 0 { usleep(5_000) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0, "the agent never opened its go-FIFO")
        if fd >= 0 {
            _ = write(fd, "go\n", 3)
            close(fd)
        }
        let status = bg.wait(timeout: 30)
        agent.waitUntilExit()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let r = Guard.Result(status: status, stdout: bg.stdout, stderr: bg.stderr, stdoutData: Data())
        return (try outcome(r, events: events, stdout: text), text)
    }

    func testPidModeSecretReadsAreKilledWithNothingRead() throws {
        let s = secret!, w = ws!
        let (o, out) = try guardRunningAgent(
            """
            \(Guard.python) -c 'import sys; print(open(sys.argv[1]).read())' \(s) > \(w)/p-py 2>&1; echo "CASE p-py rc=$?"
            cat \(s) > \(w)/p-cat 2>&1; echo "CASE p-cat rc=$?"
            """)
        XCTAssertEqual(o.result.status, 3, "-p exits 3 with violations" + o.context + "\n--- agent:\n" + out)
        for name in ["p-py", "p-cat"] {
            let got = (try? String(contentsOfFile: "\(w)/\(name)", encoding: .utf8)) ?? ""
            XCTAssertEqual(
                o.cases[name], "rc=137", "\(name): not SIGKILLed; printed \(got)\n--- agent:\n\(out)" + o.context)
            XCTAssertFalse(got.contains(token), "\(name): the secret's bytes reached the reader's output")
        }
        XCTAssertFalse(
            out.contains(token) || o.eventsText.contains(token) || o.result.stdout.contains(token),
            "the secret's bytes leaked into the agent's or the guard's output")
        let kills = o.fileViolations.filter { $0["rule"] as? String == "secrets" }
        XCTAssertGreaterThanOrEqual(kills.count, 2, o.context)
        for v in kills {
            XCTAssertEqual(v["enforced"] as? String, "killed", Self.brief(v))
            XCTAssertEqual(Self.normal(v["path"] as? String ?? ""), s, Self.brief(v))
        }
    }

    func testPidModeDeleteLoopIsKilledAfterItsFirstDelete() throws {
        let loop = victim + "/data/loop"
        try FileManager.default.createDirectory(atPath: loop, withIntermediateDirectories: true)
        for i in 0..<20 {
            try "loop file \(i): precious\n".write(
                toFile: loop + String(format: "/f%02d", i), atomically: false, encoding: .utf8)
        }
        let before = snapshot()
        let (o, out) = try guardRunningAgent(
            """
            \(Guard.python) -c '
            import os, sys
            d = sys.argv[1]
            for n in sorted(os.listdir(d)):
                os.remove(os.path.join(d, n))
                print("removed", n, flush=True)
            ' \(loop); echo "CASE p-loop rc=$?"
            """)
        XCTAssertEqual(o.result.status, 3, o.context + "\n--- agent:\n" + out)
        XCTAssertEqual(o.cases["p-loop"], "rc=137", "the delete loop was not SIGKILLed\n--- agent:\n\(out)" + o.context)
        let lost = losses(since: before)
        let lostFiles = lost.filter { $0.hasPrefix("LOST ") }.map { String($0.dropFirst(5)) }
        XCTAssertLessThanOrEqual(
            lostFiles.count, 1, "-p: at most the first delete may take effect; lost:\n" + lost.joined(separator: "\n"))
        XCTAssertEqual(lost.filter { !$0.hasPrefix("LOST ") }, [], "nothing else changed")
        let vs = o.fileViolations.filter { Self.isUnder($0["path"] as? String ?? "", loop) }
        let v = vs.first
        XCTAssertNotNil(v, "a violation for the delete loop" + o.context)
        if let v {
            XCTAssertEqual(v["enforced"] as? String, "killed-after", Self.brief(v))
            XCTAssertEqual(v["rule"] as? String, Self.destructive, Self.brief(v))
            XCTAssertTrue(Self.accesses(v).contains("delete"), Self.brief(v))
            if let gone = lostFiles.first {
                XCTAssertEqual(Self.normal(v["path"] as? String ?? ""), gone, "the violation names the lost path")
            }
        }
    }

    // MARK: --files

    func testFilesReportsEveryFileEventAsJSON() throws {
        let fx = try compileFixture()
        let w = ws!
        let o = try guarded(
            "'\(fx)' files seq \(w); echo hi > \(w)/sh-c; cat \(w)/sh-c > /dev/null; rm \(w)/sh-c", ["--files"])
        XCTAssertEqual(o.result.status, 0, o.context)
        let files = o.events.filter { $0["type"] as? String == "file" }
        XCTAssertFalse(files.isEmpty, "--files: no `file` event in -o" + o.context)
        for e in files {
            for k in ["pid", "op", "path", "ret"] where e[k] == nil {
                XCTFail("file event without \(k): \(Self.brief(e))")
            }
        }
        let seq = o.result.stdout.split(separator: "\n").filter { $0.hasPrefix("SEQ ") }.map {
            $0.split(separator: " ").map(String.init)
        }
        let pid = try XCTUnwrap(seq.first { $0[1] == "pid" }.flatMap { Int($0[2]) }, o.result.stdout)
        let aliases = [
            "open": ["open", "openat", "openat2", "creat"], "rename": ["rename", "renameat", "renameat2"],
            "truncate": ["truncate"], "unlink": ["unlink", "unlinkat"],
        ]
        for s in seq where s[1] != "pid" {
            let (op, path, ret) = (s[1], s[2], Int(s[3]))
            let found = files.contains { e in
                e["pid"] as? Int == pid && (aliases[op] ?? [op]).contains(e["op"] as? String ?? "")
                    && e["path"] as? String == path && e["ret"] as? Int == ret
                    && (op != "rename" || e["path2"] as? String == s[4])
            }
            XCTAssertTrue(
                found,
                "--files: no JSON file event {pid \(pid), op \(op), path \(path), ret \(ret ?? 0)}; events of pid \(pid):\n"
                    + files.filter { $0["pid"] as? Int == pid }.map(Self.brief).joined(separator: "\n"))
        }
        // The shell's redirection, cat's open and rm's unlink of the same file.
        let c = w + "/sh-c"
        XCTAssertTrue(
            files.contains {
                $0["comm"] as? String == "bash" && $0["path"] as? String == c && ($0["ret"] as? Int ?? -1) >= 0
            },
            "the shell's `> \(c)`")
        XCTAssertTrue(
            files.contains { $0["comm"] as? String == "cat" && $0["path"] as? String == c }, "cat's open of \(c)")
        XCTAssertTrue(
            files.contains { $0["comm"] as? String == "rm" && $0["path"] as? String == c && $0["ret"] as? Int == 0 },
            "rm's unlink of \(c)")
        // Text lines (opensnoop columns) on stdout.
        XCTAssertTrue(
            o.result.stdout.split(separator: "\n").contains {
                $0.contains("FILE") && !$0.hasPrefix("SEQ") && $0.contains(" \(pid) ") && $0.contains(w + "/seq-a")
            }, "--files prints `FILE pid comm ret flags path` lines" + o.context)
    }
}
