import XCTest

@testable import GuardCore

/// Path normalisation (with its no-copy fast path), basenames and resolution over PATH.
final class PathsTests: XCTestCase {
    /// A plain reference normaliser to check `Paths.normalize` (and its `isNormal` fast path) against.
    private func reference(_ path: String) -> String {
        var parts: [String] = []
        for c in path.split(separator: "/") {
            if c == "." { continue }
            if c == ".." {
                _ = parts.popLast()
            } else {
                parts.append(String(c))
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    func testNormalizeAgreesWithReferenceOnRandomPaths() {
        var rng = ShellFuzzTests.Rng(state: 9)
        let pieces = ["/", ".", "..", "a", "b.", ".c", "...", "//", "x/"]
        for _ in 0..<20_000 {
            var p = "/"
            for _ in 0..<rng.int(8) { p += pieces[rng.int(pieces.count)] }
            XCTAssertEqual(Paths.normalize(p), reference(p), p)
        }
        XCTAssertEqual(Paths.normalize("/"), "/")
        XCTAssertEqual(Paths.normalize("/a/./b/../../.."), "/")
        XCTAssertEqual(Paths.absolute("../x", cwd: "/home/u/p"), "/home/u/x")
        XCTAssertEqual(Paths.absolute("/etc//passwd/", cwd: "/tmp"), "/etc/passwd")
    }

    func testIsUnder() {
        XCTAssertTrue(Paths.isUnder("/home/u/p/build", "/home/u/p"))
        XCTAssertTrue(Paths.isUnder("/home/u/p", "/home/u/p"))
        XCTAssertFalse(Paths.isUnder("/home/u/project2", "/home/u/p"))
        XCTAssertTrue(Paths.isUnder("/anything", "/"))
    }

    func testBasename() {
        XCTAssertEqual(Paths.basename("/usr/bin/rm"), "rm")
        XCTAssertEqual(Paths.basename("rm"), "rm")
        XCTAssertEqual(Paths.basename("/usr/bin/"), "bin")
        XCTAssertEqual(Paths.basename("/"), "/")
        XCTAssertEqual(Paths.basename(""), "")
    }

    func testResolveOverPathFollowsSymlinks() throws {
        let r = Paths.resolve("sh", cwd: "/")
        guard r.located.hasPrefix("/") else { throw XCTSkip("no sh on PATH") }
        XCTAssertEqual(Paths.realPath(r.located), r.real)
        XCTAssertTrue(r.names.contains("sh") || r.names.contains(Paths.basename(r.real)))
        let missing = Paths.resolve("no-such-program-xyz", cwd: "/")
        XCTAssertEqual(missing.located, "no-such-program-xyz")
        XCTAssertEqual(missing.names, ["no-such-program-xyz"])
    }
}
