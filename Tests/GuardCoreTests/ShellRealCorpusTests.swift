import Foundation
import XCTest

@testable import GuardCore

/// The shell parser against 12,535 real command lines (the NL2Bash corpus, `Tests/Fixtures/nl2bash/`: every line
/// of it that shfmt parses as bash). A line shfmt parses and we reject would be a false `unparsable` alert in the
/// guard, so every one is a failure; with shfmt installed, the simple commands we extract are also compared with
/// shfmt's `CallExpr` nodes, as `ShellDifferentialTests` does for the generated corpus.
final class ShellRealCorpusTests: XCTestCase {
    static func entries() throws -> [String] {
        let url = ShellDifferentialTests.fixtures.appendingPathComponent("nl2bash/commands.txt")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Needs no shfmt: the fixture holds only lines shfmt parses (make_corpus.py dropped the others).
    func testEveryLineShfmtParsesWeParse() throws {
        let entries = try Self.entries()
        XCTAssertGreaterThanOrEqual(entries.count, 12_000)
        var rejected: [String] = []
        for entry in entries {
            if let e = ShellScript.parse(entry).error { rejected.append("\(entry.debugDescription): \(e)") }
        }
        XCTAssertEqual(
            rejected.count, 0,
            "we reject \(rejected.count) lines shfmt parses:\n" + rejected.prefix(20).joined(separator: "\n"))
    }

    /// The regexes anchored with `$` before a closing double quote that made 44 of those lines unparsable.
    func testDollarBeforeClosingDoubleQuoteIsLiteral() {
        for (line, words) in [
            (#"grep "\.java$" f"#, ["grep", #"\.java$"#, "f"]),
            (#"find . -regex ".*\.rb$""#, ["find", ".", "-regex", #".*\.rb$"#]),
            (#"grep -v ":0$""#, ["grep", "-v", ":0$"]),
            (#"echo "$""#, ["echo", "$"]),
            (#"echo "a$'b'""#, ["echo", "a$'b'"]),
        ] {
            let s = ShellScript.parse(line)
            XCTAssertNil(s.error, line)
            XCTAssertEqual(s.commands.first?.words.map(\.text), words, line)
            XCTAssertEqual(s.commands.first?.words.allSatisfy(\.isKnown), true, line)
        }
        // bash's old arithmetic `$[...]` has a value known only when it runs.
        XCTAssertEqual(ShellScript.parse("echo $[4/2] x").commands.first?.words.map(\.isKnown), [true, false, true])
        // Outside double quotes `$"..."` is still a (locale) double-quoted string.
        XCTAssertEqual(ShellScript.parse(#"echo $"hi""#).commands.first?.words.map(\.text), ["echo", "hi"])
        let policy = Policy.embeddedDefault
        XCTAssertEqual(policy.evaluate(commandLine: #"grep -rn "\.java$" src"#, workspace: "/w").action, .allow)
    }

    func testCommandWordsMatchShfmtOnRealCorpus() throws {
        guard let shfmt = ShellDifferentialTests.findShfmt() else {
            throw XCTSkip("shfmt is not installed (apt-get install shfmt)")
        }
        let entries = try Self.entries()
        let expected = try ShellDifferentialTests.shfmtCalls(shfmt, entries: entries)
        var failures: [String] = []
        for (k, entry) in entries.enumerated() {
            // With the newline shfmt read after it: a trailing `\` continues the line (at the very end of a
            // `bash -c` string it is a word of its own, as we read it without the newline).
            let s = ShellScript.parse(entry + "\n")
            if s.error != nil { continue }  // counted by testEveryLineShfmtParsesWeParse
            let ours = ShellDifferentialTests.callKeys(s)
            if ours.sorted() != expected[k].sorted() {
                failures.append(
                    "\(entry.debugDescription)\n  ours:  \(ours.sorted())\n  shfmt: \(expected[k].sorted())")
            }
        }
        XCTAssertEqual(
            failures.count, 0,
            "\(failures.count) of \(entries.count) lines differ:\n" + failures.prefix(20).joined(separator: "\n"))
    }
}

extension ShellDifferentialTests {
    /// Our simple commands of a parsed script as comparison keys (declarations left out: shfmt does not make them
    /// `CallExpr`s).
    static func callKeys(_ s: ShellScript) -> [String] {
        s.commands.filter { c in
            if c.words.isEmpty && c.assignments.isEmpty { return false }
            if let f = c.words.first, f.isKnown, declarations.contains(f.text) { return false }
            return true
        }.map { c in key(c.words.map(\.value)) }
    }

    /// shfmt's `CallExpr`s of each entry, as comparison keys. Entries that would run into the next one when the
    /// entries are joined (a trailing `\`, a here-document without its body) are parsed one by one; the others in
    /// chunks of one shfmt run each.
    static func shfmtCalls(_ shfmt: String, entries: [String]) throws -> [[String]] {
        var expected = [[String]](repeating: [], count: entries.count)
        var joint: [Int] = []
        for (k, e) in entries.enumerated() {
            if e.hasSuffix("\\") || e.contains("<<") {
                expected[k] = try calls(shfmt, [e])[0]
            } else {
                joint.append(k)
            }
        }
        var start = 0
        while start < joint.count {
            let chunk = Array(joint[start..<min(start + 2000, joint.count)])
            let got = try calls(shfmt, chunk.map { entries[$0] })
            for (i, k) in chunk.enumerated() { expected[k] = got[i] }
            start += chunk.count
        }
        return expected
    }

    /// One shfmt run over entries joined by newlines; the calls of each entry.
    private static func calls(_ shfmt: String, _ entries: [String]) throws -> [[String]] {
        let joined = entries.joined(separator: "\n") + "\n"
        var startLines: [Int] = []
        var line = 1
        for e in entries {
            startLines.append(line)
            line += e.utf8.filter { $0 == 0x0A }.count + 1
        }
        let json = try run(shfmt, ["-ln", "bash", "--to-json"], input: Data(joined.utf8))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let source = Array(joined.utf8)
        var out = [[String]](repeating: [], count: entries.count)
        for stmt in root["Stmts"] as? [[String: Any]] ?? [] {
            let pos = (stmt["Pos"] as? [String: Any])?["Line"] as? Int ?? 0
            var k = startLines.count - 1
            while k > 0 && startLines[k] > pos { k -= 1 }
            var found: [[String?]] = []
            collectCalls(stmt, source: source, into: &found)
            out[k].append(contentsOf: found.map(key))
        }
        return out
    }
}
