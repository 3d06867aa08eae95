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

    func testAbsoluteAgreesWithNormalizedJoin() {
        var rng = ShellFuzzTests.Rng(state: 13)
        let pieces = ["/", ".", "..", "a", "b.", ".c", "...", "//", "x/", "é", "e\u{301}", "/\u{301}"]
        for _ in 0..<20_000 {
            var cwd = "/"
            for _ in 0..<rng.int(5) { cwd += pieces[rng.int(pieces.count)] }
            var p = ""
            for _ in 0..<rng.int(6) { p += pieces[rng.int(pieces.count)] }
            let expected = p.hasPrefix("/") ? Paths.normalize(p) : Paths.normalize(cwd + "/" + p)
            XCTAssertEqual(Paths.absolute(p, cwd: cwd), expected, "\(cwd) + \(p)")
        }
        XCTAssertEqual(
            Paths.absolute("src/main.swift", cwd: "/home/agent/project"), "/home/agent/project/src/main.swift")
        XCTAssertEqual(Paths.absolute("", cwd: "/home/u"), "/home/u")
        XCTAssertEqual(Paths.absolute("a", cwd: "/"), "/a")
    }

    /// The glob-and-ancestors test of a path pattern as written with `Character`s (the reference for the byte path).
    private func referenceGlobContains(_ glob: Glob, _ candidate: String) -> Bool {
        if glob.matches(candidate) { return true }
        var s = Substring(candidate)
        while let slash = s.lastIndex(of: "/"), slash != s.startIndex {
            s = s[..<slash]
            if glob.matches(String(s)) { return true }
        }
        return glob.matches("/")
    }

    func testGlobPathPatternHoldsThePathOrAnAncestor() throws {
        var rng = ShellFuzzTests.Rng(state: 17)
        let pieces = ["/", "a", "b", ".ssh", "id_rsa", "x.pem", "é", "/\u{301}", "//"]
        for written in ["/home/*/.ssh", "/etc/*", "/**/*.pem", "/a/?", "/*", "/[ab]/b"] {
            let glob = try Glob(written, pathMode: true)
            let pattern = PathPattern(workspaceRelative: false, literal: nil, glob: glob, written: written)
            for _ in 0..<3_000 {
                var p = "/"
                for _ in 0..<rng.int(6) { p += pieces[rng.int(pieces.count)] }
                XCTAssertEqual(pattern.contains(p, workspace: nil), referenceGlobContains(glob, p), "\(written) \(p)")
            }
        }
        let ssh = PathPattern(
            workspaceRelative: false, literal: nil, glob: try Glob("/home/*/.ssh", pathMode: true), written: "")
        XCTAssertEqual(ssh.contains("/home/u/.ssh/id_rsa", workspace: nil), true)
        XCTAssertEqual(ssh.contains("/home/u/.sshx", workspace: nil), false)
    }

    /// The String-based `isUnder` the byte fast path must agree with.
    private func referenceIsUnder(_ path: String, _ prefix: String) -> Bool {
        if prefix == "/" { return true }
        guard path.hasPrefix(prefix) else { return false }
        let pu = path.utf8
        let n = prefix.utf8.count
        return pu.count == n || pu[pu.index(pu.startIndex, offsetBy: n)] == 0x2F
    }

    func testNormalizeAgreesWithReferenceOnRelativeAndNonASCIIPaths() {
        var rng = ShellFuzzTests.Rng(state: 11)
        let pieces = ["/", ".", "..", "a", "é", "e\u{301}", "/\u{301}", "..x", "//", "\u{212A}"]
        for _ in 0..<20_000 {
            var p = ""
            for _ in 0..<rng.int(8) { p += pieces[rng.int(pieces.count)] }
            // Normal text is returned as is (a byte test); anything else is split into components.
            XCTAssertEqual(Paths.normalize(p), Paths.isNormal(p) ? p : reference(p), p)
        }
        XCTAssertEqual(Paths.normalize(""), "/")
        XCTAssertEqual(Paths.absolute(".", cwd: "/home/u/p"), "/home/u/p")
    }

    func testIsUnderAgreesWithStringReference() {
        let paths = [
            "/w/build", "/w/build/x", "/w/buildx", "/w", "/", "/w/b\u{301}uild", "/w/\u{212A}", "/w/K/x", "/w/K",
        ]
        for path in paths {
            for rest in ["/build", "/K", "/b"] {
                XCTAssertEqual(
                    Paths.isUnder(path, base: "/w", rest: rest) ?? referenceIsUnder(path, "/w" + rest),
                    referenceIsUnder(path, "/w" + rest), "\(path) \(rest)")
            }
            for prefix in ["/w", "/w/K", "/", "/w/b"] {
                XCTAssertEqual(Paths.isUnder(path, prefix), referenceIsUnder(path, prefix), "\(path) \(prefix)")
            }
        }
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

    func testIsUnderComparesBytesAndNeverTrapsOnCanonicallyEqualText() {
        // "\u{212A}" (KELVIN SIGN, 3 bytes) is canonically equivalent to "K" (1 byte).
        XCTAssertFalse(Paths.isUnder("/w/K", "/w/\u{212A}"))
        XCTAssertFalse(Paths.isUnder("/w/\u{212A}", "/w/K"))
        XCTAssertFalse(Paths.isUnder("/w/Kx/y", "/w/\u{212A}"))
        XCTAssertTrue(Paths.isUnder("/w/\u{212A}/y", "/w/\u{212A}"))
        XCTAssertTrue(Paths.isUnder("/w/\u{212A}", "/w/\u{212A}"))
        XCTAssertFalse(Paths.isUnder("/w/\u{212A}y", "/w/\u{212A}"))
        // "é" precomposed (2 bytes) and decomposed (3 bytes): different names on Linux.
        XCTAssertFalse(Paths.isUnder("/w/e\u{301}/x", "/w/\u{E9}"))
    }
}
