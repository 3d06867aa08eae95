import Foundation
import XCTest

@testable import GuardCore

/// Brace expansion as bash does it, checked against bash itself; and the evaluator judging the expanded words.
final class BraceExpansionTests: XCTestCase {
    /// The words bash makes of `word` (unquoted, alone on a command line).
    private func bash(_ word: String) throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "printf '%s\\0' " + word]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var words = data.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if words.last == "" { words.removeLast() }
        return words == [""] ? [] : words
    }

    private func ours(_ word: String) -> [String] { BraceExpansion.expand(word) ?? [word] }

    func testWordsExpandAsBashExpandsThem() throws {
        for w in [
            "{a,b}", "x{a,b}y", "{a,b{c,d}}e", "{1..5}", "{5..1}", "{1..10..3}", "{10..1..3}", "{01..10..4}", "{-2..2}",
            "{a..e}", "{a..e..2}", "{e..a..2}", "{a}", "{}", "a{b", "a{b,c", "{a,b}{1,2}", "{1..3}{a,b}", "{1..a}",
            "a}b{c,d}", "x{,}", "{rm,-rf,/}", "-r{f,}", "dir/{src,test,docs}", "{a,b,}c", "{{a,b},c}", "{a..c}{1..2}",
        ] {
            XCTAssertEqual(ours(w), try bash(w), w)
        }
    }

    func testRandomBraceWordsExpandAsBashExpandsThem() throws {
        var rng = ShellFuzzTests.Rng(state: 11)
        let alphabet = Array("ab1{},.-")
        for _ in 0..<100 {
            let n = 1 + rng.int(10)
            let w = String((0..<n).map { _ in alphabet[rng.int(alphabet.count)] })
            // `-` first would be an option to printf; bash's own syntax errors are not words.
            if w.hasPrefix("-") { continue }
            XCTAssertEqual(ours(w), try bash(w), w)
        }
    }

    func testExpansionIsBounded() {
        XCTAssertNil(BraceExpansion.expand("{1..100000}"))
        XCTAssertNil(BraceExpansion.expand("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}"))
        XCTAssertEqual(BraceExpansion.expand("{1..4096}")?.count, 4096)
    }

    func testQuotedOrEscapedBracesDoNotExpand() {
        XCTAssertNil(ShellScript.parse("echo '{a,b}'").commands[0].expanded)
        XCTAssertNil(ShellScript.parse("echo \\{a,b}").commands[0].expanded)
        XCTAssertNil(ShellScript.parse("echo \"{a,b}\"").commands[0].expanded)
        let c = ShellScript.parse("$X {rm,-rf} \"$Y\" y{1,2}").commands[0]
        XCTAssertEqual(c.argv, ["$X", "{rm,-rf}", "\"$Y\"", "y{1,2}"])
        XCTAssertEqual(c.expanded, ExpandedArgv(argv: ["$X", "rm", "-rf", "\"$Y\"", "y1", "y2"], unknown: [0, 3]))
    }

    func testTheEvaluatorJudgesTheExpandedWords() throws {
        let p = try Policy.load(
            yaml: """
                version: 1
                rules:
                  - id: rm-rf
                    match: { command: rm, flags: [r, f] }
                    action: kill
                """, file: "b.yaml")
        for line in ["{rm,-rf,x}", "rm {-rf,x}", "rm -r{f,} x", "rm -{r,f} x", "timeout 5 {rm,-rf,x}"] {
            XCTAssertEqual(p.evaluate(commandLine: line).rule, "rm-rf", line)
        }
        XCTAssertNil(p.evaluate(commandLine: "echo {rm,-rf,x}").rule)
        XCTAssertNil(p.evaluate(commandLine: "'{rm,-rf,x}'").rule)
    }
}
