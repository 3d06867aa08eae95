import Foundation
import XCTest

@testable import GuardCore

/// Glob semantics: `*`, `?`, `[...]`, `**`, escapes; path mode; errors; linear time.
final class GlobTests: XCTestCase {
    private func m(_ pattern: String, _ text: String, path: Bool = false) -> Bool {
        try! Glob(pattern, pathMode: path).matches(text)
    }

    func testLiteralsPrefixesSuffixes() {
        XCTAssertTrue(m("rm", "rm"))
        XCTAssertFalse(m("rm", "rmdir"))
        XCTAssertTrue(m("python*", "python3.12"))
        XCTAssertTrue(m("python*", "python"))
        XCTAssertFalse(m("python*", "ipython"))
        XCTAssertTrue(m("*.sh", "install.sh"))
        XCTAssertFalse(m("*.sh", "install.shx"))
        XCTAssertTrue(m("", ""))
        XCTAssertFalse(m("", "a"))
    }

    func testStarQuestionAndClasses() {
        XCTAssertTrue(m("of=/dev/*", "of=/dev/sda"))
        XCTAssertTrue(m("a*b*c", "a-x-b-y-c"))
        XCTAssertFalse(m("a*b*c", "a-x-c-y-b"))
        XCTAssertTrue(m("?", "x"))
        XCTAssertFalse(m("?", ""))
        XCTAssertTrue(m("[abc]x", "bx"))
        XCTAssertFalse(m("[abc]x", "dx"))
        XCTAssertTrue(m("[!abc]x", "dx"))
        XCTAssertTrue(m("[^abc]x", "dx"))
        XCTAssertTrue(m("[a-c0-9]", "7"))
        XCTAssertTrue(m("[[:digit:]][[:alpha:]]", "1z"))
        XCTAssertTrue(m("[]]", "]"))
        XCTAssertTrue(m("\\*", "*"))
        XCTAssertFalse(m("\\*", "x"))
        XCTAssertTrue(m("*777", "0777"))
        XCTAssertTrue(m("make * deploy*", "make -j4 deploy-prod"))
    }

    func testPathModeStarStopsAtSlashAndGlobstarCrossesIt() {
        XCTAssertFalse(m("/tmp/*", "/tmp/a/b", path: true))
        XCTAssertTrue(m("/tmp/*", "/tmp/a", path: true))
        XCTAssertTrue(m("/tmp/*", "/tmp/a/b"))  // not path mode: * crosses /
        XCTAssertTrue(m("/home/**", "/home/a/b/c", path: true))
        XCTAssertTrue(m("/home/**/id_rsa", "/home/u/.ssh/id_rsa", path: true))
        XCTAssertTrue(m("/home/**/id_rsa", "/home/id_rsa", path: true))
        XCTAssertFalse(m("/home/**/id_rsa", "/home/u/id_rsa.pub", path: true))
        // The `/` of `**/` may be absent: it is no literal every match must contain.
        XCTAssertTrue(m("**/id_rsa", "id_rsa", path: true))
        XCTAssertTrue(m("**/.ssh/*", ".ssh/k", path: true))
        XCTAssertTrue(m("*(*", "f(x", path: false))
        XCTAssertFalse(m("*(*", "fx", path: false))
        XCTAssertFalse(m("/usr/?in", "/usr//in", path: true))
        XCTAssertTrue(m("/usr/[bs]in/rm", "/usr/bin/rm", path: true))
    }

    func testBadPatternsSayWhatToWrite() {
        XCTAssertThrowsError(try Glob("[abc")) { XCTAssertTrue("\($0)".contains("never closed"), "\($0)") }
        XCTAssertThrowsError(try Glob("abc\\")) { XCTAssertTrue("\($0)".contains("lone"), "\($0)") }
        XCTAssertThrowsError(try Glob("[[:nope:]]")) {
            XCTAssertTrue("\($0)".contains("unknown character class"), "\($0)")
        }
        XCTAssertThrowsError(try Glob("[z-a]")) { XCTAssertTrue("\($0)".contains("backwards"), "\($0)") }
    }

    func testRegexPrefilterLiteralsAreSound() {
        typealias R = CompiledMatch.Regex
        XCTAssertEqual(
            R.requiredLiterals(#"rmtree|os\.remove|\.unlink\("#)?.map { String(decoding: $0, as: UTF8.self) },
            ["rmtree", "os.remove", ".unlink("])
        XCTAssertEqual(R.requiredLiterals("abc*d")?.map { String(decoding: $0, as: UTF8.self) }, ["ab"])
        XCTAssertNil(R.requiredLiterals("(a|b)c"))
        XCTAssertNil(R.requiredLiterals("x|.y"))
        XCTAssertNil(R.requiredLiterals(#"\bmkfs"#))
        // The prefilter never changes the answer.
        for (pattern, text) in [
            (#"rmtree|os\.remove"#, "python3 -c 'shutil.rmtree(x)'"), (#"rmtree|os\.remove"#, "python3 -m pytest"),
            ("abc*d", "xxabd"), ("abc*d", "abccd"), ("abc*d", "abx"), (#"pass(word)?=\S+"#, "echo password=x"),
        ] {
            let re = try! NSRegularExpression(pattern: pattern)
            let expected =
                re.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
            XCTAssertEqual(try R(pattern: pattern).search(text), expected, "\(pattern) on \(text)")
        }
    }

    /// A backtracking matcher would take 5,000^30 steps here; this one returns (its time is bench/'s to measure).
    func testNoExponentialBlowUp() {
        let g = try! Glob(String(repeating: "*a", count: 30) + "b")
        XCTAssertFalse(g.matches(String(repeating: "a", count: 5_000)))
        XCTAssertTrue(g.matches(String(repeating: "a", count: 5_000) + "b"))
    }
}
