import Foundation
import XCTest

@testable import GuardCore

/// Issue 14 point 1: protection that does not depend on where claude-guard is started. A default workspace of
/// `/`, a home directory or an ancestor of one is refused; `--workspace` may name one, with a warning, and must
/// exist. The shipped default agrees with itself about scratch places (`find /tmp ... -delete` as `rm -rf /tmp/x`).
final class WorkspaceTests: XCTestCase {
    let homes = ["/root", "/home/agent"]

    func testTooWideDefaultsAreRefused() {
        XCTAssertEqual(Workspace.objection("/", homes: homes), "the whole file system")
        XCTAssertEqual(Workspace.objection("/root", homes: homes), "a home directory")
        XCTAssertEqual(Workspace.objection("/home", homes: homes), "an ancestor of the home directory /home/agent")
        XCTAssertNil(Workspace.objection("/home/agent/project", homes: homes))
        XCTAssertNil(Workspace.objection("/srv/ws", homes: homes))
        XCTAssertNil(Workspace.objection("/home/agent2", homes: homes))

        XCTAssertThrowsError(try Workspace.resolve(given: nil, fallback: "/", cwd: "/", homes: homes)) { e in
            XCTAssertEqual(e as? Workspace.Problem, .tooWide(dir: "/", what: "the whole file system"))
            XCTAssertTrue("\(e)".contains("--workspace DIR"), "\(e)")
        }
        XCTAssertThrowsError(try Workspace.resolve(given: nil, fallback: "/root/", cwd: "/", homes: homes))
    }

    func testAnExplicitWorkspaceMayBeWideWithAWarningAndMustExist() throws {
        let r = try Workspace.resolve(given: "/", fallback: "/srv", cwd: "/srv", homes: homes)
        XCTAssertEqual(r.path, "/")
        XCTAssertEqual(r.warning, "--workspace / is the whole file system: ${workspace} rules protect nothing in it")
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let real = try XCTUnwrap(realPath(tmp.path))
        let ok = try Workspace.resolve(
            given: tmp.lastPathComponent, fallback: "/", cwd: tmp.deletingLastPathComponent().path, homes: homes)
        XCTAssertEqual(ok.path, real)
        XCTAssertNil(ok.warning)
        XCTAssertThrowsError(try Workspace.resolve(given: "/no/such/dir", fallback: "/", cwd: "/", homes: homes)) {
            XCTAssertEqual($0 as? Workspace.Problem, .missing("/no/such/dir"))
        }
        XCTAssertThrowsError(try Workspace.resolve(given: "/etc/hostname", fallback: "/", cwd: "/", homes: homes))
    }

    func testFindDeleteStartsAreJudgedByWhatLiesBelowThem() {
        let p = Policy.embeddedDefault
        func action(_ line: String) -> Action {
            p.evaluate(commandLine: line, cwd: "/home/agent/project", workspace: "/home/agent/project").action
        }
        // The examples: killed before, while rm -rf /tmp/x and /var/tmp/x were allowed.
        XCTAssertEqual(action("rm -rf /tmp/x"), .allow)
        XCTAssertEqual(action("rm -rf /var/tmp/x"), .allow)
        XCTAssertEqual(action("find /tmp -name core -type f -delete"), .allow)
        XCTAssertEqual(action("find /tmp/ -mtime +1 -delete"), .allow)
        XCTAssertEqual(action("find /var/tmp/stuff -delete"), .allow)
        XCTAssertEqual(action("find /var/tmp -delete"), .allow)
        XCTAssertEqual(action("find . -name '*.pyc' -delete"), .allow)
        XCTAssertEqual(action("find / -name x -delete"), .kill)
        XCTAssertEqual(action("find /etc -name '*.bak' -delete"), .kill)
        XCTAssertEqual(action("find /tmp /etc -delete"), .kill)
        XCTAssertEqual(action("cd /tmp && find .. -delete"), .kill)
        XCTAssertEqual(action("find -- / -delete"), .kill)  // `--` ends only find's -H/-L/-P options
        func path(_ word: String, _ argv: [String]) -> String? {
            let parsed = ParsedArgs(argv: argv, syntax: OptionSyntax.lookup(argv[0]), unknown: [])
            return PathOperand.path(word, below: PathOperand.below(names: [argv[0]], parsed: parsed))
        }
        XCTAssertEqual(path("/tmp//", ["find", "/tmp//", "-delete"]), "/tmp/*")
        XCTAssertEqual(path("/", ["find", "/", "-delete"]), "/*")
        XCTAssertEqual(path("/tmp", ["find", "/tmp", "-print"]), "/tmp")
        XCTAssertEqual(path("/tmp", ["rm", "/tmp", "-delete"]), "/tmp")
        XCTAssertNil(path("https://x/y", ["wget", "https://x/y"]))
    }
}
